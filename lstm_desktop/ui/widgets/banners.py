"""In-window messages: an error/warning banner with the fix, and the 'MNIST is missing' banner.

Each kind has a light and a dark set of colours (background, border, text); the banner picks the set
from the window's palette and switches when the palette changes, so a warning never shows as a
pale strip with dark text on a dark desktop.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from lstm_desktop.ui.theme import is_dark
from lstm_desktop.ui.widgets.common import named

STYLES = {  # kind: (background, border, text) on a light theme
    "error": ("#fce8e6", "#d93025", "#a50e0e"),
    "warning": ("#fef7e0", "#f9ab00", "#7a4f01"),
    "info": ("#e8f0fe", "#1a73e8", "#174ea6"),
    "success": ("#e6f4ea", "#1e8e3e", "#0d652d"),
}
DARK_STYLES = {  # the same on a dark theme: a dark tint of the hue, light text
    "error": ("#3c1f1e", "#e8716a", "#f6aea9"),
    "warning": ("#3a3016", "#f9ab00", "#fdd663"),
    "info": ("#1c2b40", "#6ea8f7", "#aecbfa"),
    "success": ("#1b3224", "#5bb974", "#a8dab5"),
}


def banner_colors(kind: str, dark: bool) -> tuple[str, str, str]:
    """(background, border, text) of a banner kind for a light or dark theme."""
    styles = DARK_STYLES if dark else STYLES
    return styles.get(kind, styles["info"])


class MessageBanner(QFrame):
    """A dismissible coloured strip: bold message, then the hint (what to do)."""

    def __init__(self, name: str, accessible: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(accessible)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.message_label.font()
        font.setBold(True)
        self.message_label.setFont(font)
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.message_label)
        text.addWidget(self.hint_label)
        layout.addLayout(text, 1)
        self.actions_layout = QHBoxLayout()
        layout.addLayout(self.actions_layout)
        self.close_button = named(QToolButton(), f"{name}Close", f"Dismiss {accessible.lower()}")
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = "info"
        self.hide()

    def _restyle(self) -> None:
        """Colours for the current kind and theme; the style sheet is set only when it changes
        (setting one makes Qt re-polish, which must not loop through the palette events)."""
        parent = self.parentWidget()
        dark = is_dark(parent.palette() if parent is not None else None)
        bg, border, fg = banner_colors(self.kind, dark)
        sheet = (f"#{self.objectName()} {{ background: {bg}; border: 1px solid {border};"
                 f" border-radius: 6px; }} #{self.objectName()} QLabel {{ color: {fg}; }}")
        if sheet != self.styleSheet():
            self.setStyleSheet(sheet)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.styleSheet():
            self._restyle()

    def show_message(self, message: str, hint: str = "", kind: str = "error") -> None:
        self.kind = kind
        self._restyle()
        self.message_label.setText(message)
        self.hint_label.setText(hint)
        self.hint_label.setVisible(bool(hint))
        self.setAccessibleDescription(f"{message} {hint}".strip())
        self.show()

    @property
    def text(self) -> str:
        return f"{self.message_label.text()}\n{self.hint_label.text()}".strip()


class DataBanner(MessageBanner):
    """Shown when MNIST is not in the data folder: says where it looked and offers the ways out."""

    downloadRequested = Signal()
    chooseFolderRequested = Signal()
    useDigitsRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("dataBanner", "Dataset status", parent)
        self.close_button.hide()
        self.download_button = named(QPushButton("Download MNIST"), "downloadMnistButton", "Download MNIST",
                                     "Download the four MNIST files (about 11 MB) into the data folder")
        self.choose_button = named(QPushButton("Choose folder…"), "chooseMnistFolderButton",
                                   "Choose the MNIST folder")
        self.digits_button = named(QPushButton("Use offline digits"), "useDigitsButton",
                                   "Use the offline digits dataset")
        self.cancel_button = named(QPushButton("Cancel"), "cancelDownloadButton", "Cancel the download")
        for b in (self.download_button, self.choose_button, self.digits_button, self.cancel_button):
            self.actions_layout.addWidget(b)
        self.progress = named(QProgressBar(), "downloadProgress", "Download progress")
        self.progress.setMinimumWidth(160)
        self.progress.hide()
        self.actions_layout.insertWidget(0, self.progress)
        self.cancel_button.hide()
        self.download_button.clicked.connect(self.downloadRequested)
        self.choose_button.clicked.connect(self.chooseFolderRequested)
        self.digits_button.clicked.connect(self.useDigitsRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)

    def show_missing(self, raw_dir: str, missing: list[str]) -> None:
        self.set_downloading(False)
        self.show_message(f"MNIST is not in {raw_dir}",
                          f"Missing: {', '.join(missing)}. Download it (needs internet), choose the folder "
                          "that holds MNIST/raw/, or train on the offline scikit-learn digits.", "warning")

    def show_error(self, message: str, hint: str) -> None:
        self.set_downloading(False)
        self.show_message(message, hint, "error")

    def set_downloading(self, on: bool, text: str = "") -> None:
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        for b in (self.download_button, self.choose_button, self.digits_button):
            b.setVisible(not on)
        if on:
            self.progress.setRange(0, 0)
            self.show_message("Downloading MNIST…", text, "info")

    def set_progress(self, file: str, done: float, total: float) -> None:
        if not self.progress.isVisible():
            self.set_downloading(True)
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{file}: {done / 1e6:.1f} / {total / 1e6:.1f} MB")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(f"{file}: {done / 1e6:.1f} MB")
        self.hint_label.setText(f"{file}: {done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else ""))
        self.hint_label.show()
