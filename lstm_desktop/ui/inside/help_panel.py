"""The help beside the plots: every panel explained, folded away when the view is narrow, and the
"? Help" button that opens or closes it (a choice the user made with it wins)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QToolButton

from lstm_desktop.ui.inside.words import HELP, HELP_ORDER

COMPACT_WIDTH = 900  # narrower than this (beside the pad, a small window) the help would take the plots' room


class HelpPanel:
    """The help text in `scroll` (placed by the view) and the `button` that shows it."""

    def __init__(self) -> None:
        self.button = QToolButton()
        self.button.setObjectName("insideHelpButton")
        self.button.setAccessibleName("Show or hide the explanation of the panels")
        self.button.setText("? Help")
        self.button.setCheckable(True)
        self.button.setChecked(True)
        self.label = QLabel("<br><br>".join(HELP[k] for k in HELP_ORDER))
        self.label.setObjectName("insideHelp")
        self.label.setAccessibleName("Explanation of the panels")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label.setMargin(8)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("insideHelpScroll")
        self.scroll.setWidget(self.label)
        self.scroll.setWidgetResizable(True)
        self.scroll.setMinimumWidth(220)
        self.button.toggled.connect(self.scroll.setVisible)
        self._chosen: bool | None = None  # the user's own choice (None: fold it away when the view is narrow)
        self.button.clicked.connect(self._on_clicked)

    def set_texts(self, texts: dict[str, str]) -> None:
        """Explain the panels with these texts (help_texts for the model shown)."""
        self.label.setText("<br><br>".join(texts[k] for k in HELP_ORDER))

    def fit(self, width: int) -> None:
        """Open the help when the view is `width` pixels wide enough, fold it away when narrow,
        unless the user chose with the button."""
        if self._chosen is None:
            wide = width >= COMPACT_WIDTH
            if self.button.isChecked() != wide:
                self.button.setChecked(wide)

    def _on_clicked(self, on: bool) -> None:
        self._chosen = on
