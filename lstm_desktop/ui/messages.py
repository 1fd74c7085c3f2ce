"""The window's one voice: the floating message banner (what happened and the fix) and the status line.

Every window part that tells the user something gets this object, not the window: a message goes
through `window_words` once, so no part can suggest a command-line flag by accident.

The status line holds two kinds of text. `set_status` says what the window is doing (Ready,
Training on cpu, Paused): it stays until the state changes. `notice` says what an action just did
("test image #50 sent…", "Moved 1 run to the trash"): it is replaced by the next message, and after
NOTICE_MS the line goes back to the window's state, so a finished action's line never lingers."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from lstm_desktop.ui.gui_words import window_words
from lstm_desktop.ui.widgets.overlay_banner import OverlayBanner

Action = tuple[str, Callable[..., object]]  # (button text, what it does)

NOTICE_MS = 20_000  # long enough to read a long line twice


class Messages:
    def __init__(self, banner: OverlayBanner, status_label: QLabel) -> None:
        self.banner = banner
        self.status_label = status_label
        self.state_text = status_label.text()  # what the window is doing: the line between notices
        self.notice_timer = QTimer(status_label)
        self.notice_timer.setSingleShot(True)
        self.notice_timer.setInterval(NOTICE_MS)
        self.notice_timer.timeout.connect(lambda: self._show(self.state_text))

    def show_error(self, message: str, hint: str = "", kind: str = "error", action: Action | None = None) -> None:
        """Show `message` (kind: error, warning or success) with its fix; the status line repeats it."""
        message, hint = window_words(message), window_words(hint)  # the form's names, not CLI flags
        self.banner.show_message(message, hint, kind, action)
        self.notice(message)

    def hide_error(self) -> None:
        self.banner.hide()

    def set_status(self, text: str) -> None:
        """What the window is doing now (Ready, Training on cpu, Paused): shown until it changes."""
        self.state_text = text
        self.notice_timer.stop()
        self._show(text)

    def notice(self, text: str, state: str | None = None, hold: bool = False) -> None:
        """What an action did (or is doing): shown until the next message, or NOTICE_MS, then the
        window's state again. state: the window's state from now on (after a run: Ready); hold: an
        action's progress line ("Exporting…"), kept until its result replaces it."""
        if state is not None:
            self.state_text = state
        self._show(text)
        if hold:
            self.notice_timer.stop()
        else:
            self.notice_timer.start()

    def _show(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)  # a long line (the ONNX check's result) is cut at the window's edge

    def status(self) -> str:
        return self.status_label.text()
