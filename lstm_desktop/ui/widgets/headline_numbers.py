"""The results' headline numbers (accuracy, macro scores, test images) in big type that always fits:
on a narrow panel (a 1024 px screen) the type shrinks step by step instead of the digits being cut."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from lstm_desktop.ui.widgets.common import big_number_font, muted, named

SPACING = 16
SIZE_STEPS = (6.0, 4.5, 3.0, 1.5, 0.0)  # points added to the base font, largest that fits wins


class HeadlineNumbers(QFrame):
    """Captions over values in a row; `set_values({key: text})`, `clear()`, `set_caption(key, text)`."""

    def __init__(self, items: tuple[tuple[str, str], ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsSummary")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(SPACING)
        self.values: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        for col, (key, text) in enumerate(items):
            self.captions[key] = muted(text)  # wraps: "Precision (macro)" takes two lines when narrow
            self.captions[key].setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
            grid.addWidget(self.captions[key], 0, col)
            value = named(QLabel("–"), f"{key}Value", text)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setMinimumWidth(1)  # the width comes from the chosen type size, not from the text
            grid.addWidget(value, 1, col)
            grid.setColumnStretch(col, 1)
            self.values[key] = value
        self._fit()

    def set_values(self, texts: dict[str, str]) -> None:
        """Set several numbers, then fit the type once."""
        for key, text in texts.items():
            self.values[key].setText(text)
        self._fit()

    def clear(self) -> None:
        self.set_values(dict.fromkeys(self.values, "–"))

    def set_caption(self, key: str, text: str) -> None:
        self.captions[key].setText(text)

    def value_font(self) -> QFont:
        return next(iter(self.values.values())).font()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        margins = self.contentsMargins().left() + self.contentsMargins().right()
        inner = self.layout().contentsMargins()
        width = self.width() - margins - inner.left() - inner.right() - SPACING * (len(self.values) - 1)
        base = self.font()
        for delta in SIZE_STEPS:
            font = big_number_font(base, delta)
            metrics = QFontMetrics(font)
            widest = max(metrics.horizontalAdvance(v.text()) for v in self.values.values()) + 4
            if widest * len(self.values) <= width:  # equal columns (stretch 1 each)
                break
        if font != self.value_font():
            for value in self.values.values():
                value.setFont(font)
