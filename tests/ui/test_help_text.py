"""What a newcomer reads in Help and in --help: equations that render, real keys, whole numbers."""

from __future__ import annotations

import re
import subprocess
import sys

from PySide6.QtGui import QTextDocument


def test_the_lesson_has_no_raw_html_entities():
    from lstm_desktop.ui.lesson import LESSON_HTML

    doc = QTextDocument()
    doc.setHtml(LESSON_HTML)
    plain = doc.toPlainText()
    assert not re.findall(r"&[a-zA-Z]+;", plain), "an entity Qt's rich text does not know shows raw"
    assert plain.count("⊙") == 5  # the element-wise product in the LSTM and GRU equations


def test_shortcuts_list_real_keys_sorted_by_what_they_do(qtbot, window):
    from lstm_desktop.ui.menus import shortcut_rows

    qtbot.waitUntil(lambda: window.pad_panel is not None, timeout=60_000)
    rows = shortcut_rows(window)
    whats = [what for what, _ in rows]
    assert whats == sorted(whats, key=str.lower)
    keys = [k.strip() for _, ks in rows for k in ks.split(",")]
    assert not {"Redo", "Undo"} & set(keys), "dedicated Undo/Redo keys read as words, not keys"
    redo = [ks for what, ks in rows if what.endswith("Redo")]
    assert redo and "Ctrl+Shift+Z" in redo[0]
    assert len(whats) == len(set(whats)), "two actions read the same (Training › Train and View › Train)"


def test_seed_range_is_written_as_whole_numbers():
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.training.settings import settings_of

    seed = next(s for s in settings_of(TrainConfig) if s.name == "seed")
    assert seed.range_text() == "0 to 2147483647"
    assert "3000000000" in seed.problem(3_000_000_000)
    out = subprocess.run([sys.executable, "-m", "lstm_desktop", "train", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert not re.search(r"\d\.\d+e\+\d", out), "a bound printed in scientific notation"
