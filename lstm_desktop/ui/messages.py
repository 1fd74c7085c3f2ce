"""The window's one voice: the floating message banner (what happened and the fix) and the status line.

Every window part that tells the user something gets this object, not the window: a message goes
through `window_words` once, so no part can suggest a command-line flag by accident."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QLabel

from lstm_desktop.ui.gui_words import window_words
from lstm_desktop.ui.widgets.overlay_banner import OverlayBanner

Action = tuple[str, Callable[..., object]]  # (button text, what it does)


class Messages:
    def __init__(self, banner: OverlayBanner, status_label: QLabel) -> None:
        self.banner = banner
        self.status_label = status_label

    def show_error(self, message: str, hint: str = "", kind: str = "error", action: Action | None = None) -> None:
        """Show `message` (kind: error, warning or success) with its fix; the status line repeats it."""
        message, hint = window_words(message), window_words(hint)  # the form's names, not CLI flags
        self.banner.show_message(message, hint, kind, action)
        self.set_status(message)

    def hide_error(self) -> None:
        self.banner.hide()

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)  # a long line (the ONNX check's result) is cut at the window's edge

    def status(self) -> str:
        return self.status_label.text()
