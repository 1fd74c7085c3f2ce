"""How one row of the runs table looks beyond its text: its tooltip, and a hidden run's look (listed
only when Hidden is ticked, it must not pass for an ordinary run)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont, QGuiApplication, QPalette

from lstm_desktop.core.runs.evented_runs import Run
from lstm_desktop.ui.theme import mix

HIDDEN_TIP = "Hidden: left out of the table unless Hidden is ticked (select it and press Show to list it again)"


def row_tooltip(run: Run, hidden: bool) -> str:
    """The run's label, status, notes and file; a hidden run's says first that it is hidden."""
    text = f"{run.label}\nstatus: {run.status}" + (f" — {run.message}" if run.message else "") + \
        (f"\nnotes: {run.notes}" if run.notes else "") + \
        (f"\nfile: {run.checkpoint_path}" if run.checkpoint_path else "")
    return f"{HIDDEN_TIP}\n{text}" if hidden else text


def hidden_look(role: Qt.ItemDataRole) -> QFont | QBrush:
    """A hidden run's row: italic, its text part of the way to the background (the palette's now,
    so it reads in the light and the dark theme; a selected row keeps the highlight's text colour)."""
    if role == Qt.ItemDataRole.FontRole:
        font = QFont()
        font.setItalic(True)
        return font
    palette = QGuiApplication.palette()
    return QBrush(mix(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base), 0.45))
