"""What every command shares: one-line argument errors, and user errors printed as messages."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.training.settings import Setting

Command = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (exit 2), without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def report(command: str, exc: LstmDesktopError, stream=None) -> None:
    """The message, and the hint on its own indented line: never a traceback."""
    stream = stream or sys.stderr
    stream.write(f"lstm-desktop {command}: error: {exc.message}\n")
    if exc.hint:
        stream.write(f"  {exc.hint}\n")


def exit_code_for(exc: LstmDesktopError) -> int:
    """2 for a setting or device the user typed, 1 for everything else (data, files, models);
    an error may carry its own `exit_code` (a cancelled download: 130, like Ctrl-C)."""
    code = getattr(exc, "exit_code", None)
    if isinstance(code, int):
        return code
    return 2 if type(exc).__name__ in ("ConfigError", "DeviceError") else 1


def argument_type(s: Setting) -> Callable[[str], Any]:
    """An argparse `type=` that parses with the setting's own rules and message."""
    def parse(text: str) -> Any:
        try:
            return s.parse(text)
        except LstmDesktopError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None
    parse.__name__ = s.label  # argparse names the type in some messages
    return parse
