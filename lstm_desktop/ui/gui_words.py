"""The window's words for the core's hints: a hint written for the command line ("--dataset digits")
names the form's control instead ("Dataset: scikit-learn digits (offline, 8×8)"), so a message in the
window never asks the user to type a flag."""

from __future__ import annotations

import re

from lstm_desktop.core.training.config import EXPOSED
from lstm_desktop.core.errors import LstmDesktopError

_FLAG = re.compile(r"`?--([a-z][a-z-]*)(?:[ =]([\w~][\w.:/~-]*))?`?")
_BY_FLAG = {s.flag[2:]: s for s in EXPOSED}


def window_words(text: str) -> str:
    """text with every training setting's flag (and its value) replaced by the form's label."""
    def name(match: re.Match) -> str:
        setting = _BY_FLAG.get(match.group(1))
        if setting is None:
            return match.group(0)
        value = match.group(2) or ""
        end = value[len(value.rstrip(".:")):]  # the sentence's full stop is not part of the value
        value = value[:len(value) - len(end)]
        if value and _fits(setting, value):
            return f"{setting.label}: {dict(setting.choices).get(value, value)}{end}"
        rest = f" {value}{end}" if match.group(2) else ""  # the word after the flag was not its value
        return f"the {setting.label} setting{rest}"

    return _FLAG.sub(name, text)


def _fits(setting, value: str) -> bool:
    try:
        setting.parse(value)
    except LstmDesktopError:
        return False
    return True
