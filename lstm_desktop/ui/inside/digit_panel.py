"""The digit as the model reads it (one row per time step), tinted by the attention weights when
the model has an attention layer; the panel owns the switch for the tint."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox

from lstm_desktop.core.models.introspect import Explanation
from lstm_desktop.ui.inside.plots import ATTENTION_RGB, new_plot, pin_rows
from lstm_desktop.ui.theme import Theme, style_plot


class DigitPanel:
    """The digit plot in column `col` of a plot layout, and its "Tint the digit by attention" box."""

    def __init__(self, layout: pg.GraphicsLayout, col: int) -> None:
        self.plot = new_plot(layout, "Digit (what the model reads)", "digit", 0, col, left="row",
                             bottom="column")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLevels((-1.0, 1.0))
        self.tint = pg.ImageItem(axisOrder="row-major")
        self.tint.setZValue(5)
        # one image pixel is one unit on every axis, so placing an image is a translation:
        # pixel (row r, column c) is centred on (c, r), 1-based, rows downwards
        for img in (self.image, self.tint):
            img.setPos(0.5, 0.5)
            self.plot.addItem(img)
        self.tint_check = QCheckBox("Tint the digit by attention")
        self.tint_check.setObjectName("insideTintCheck")
        self.tint_check.setAccessibleName("Tint the digit by attention")
        self.tint_check.setChecked(True)
        self.tint_check.toggled.connect(self._on_tint_toggled)
        self._explanation: Explanation | None = None
        self._tinted = False

    def set_rows(self, T: int, F: int) -> None:
        pin_rows(self.plot, T)
        self.plot.setXRange(0.5, F + 0.5, padding=0)

    def configure(self, attention: bool) -> None:
        """A model without attention has nothing to tint with."""
        self.tint_check.setEnabled(attention)

    def draw(self, ex: Explanation) -> None:
        self._explanation = ex
        self.image.setImage(ex.image, autoLevels=False, levels=(-1.0, 1.0))
        if ex.attention is not None or self._tinted:  # clear once, not on every update: empty items are costly
            self._draw_tint()

    def clear(self) -> None:
        self._explanation = None
        self.image.clear()
        self.tint.clear()
        self._tinted = False

    def apply_theme(self, theme: Theme) -> None:
        style_plot(self.plot, theme)

    def _draw_tint(self) -> None:
        ex = self._explanation
        if ex is None or ex.attention is None or not self.tint_check.isChecked():
            self.tint.clear()
            self._tinted = False
            return
        w = ex.attention / max(float(ex.attention.max()), 1e-12)
        rgba = np.empty((len(w), ex.image.shape[1], 4), dtype=np.uint8)
        rgba[..., 0], rgba[..., 1], rgba[..., 2] = ATTENTION_RGB
        rgba[..., 3] = (w * 140).astype(np.uint8)[:, None]
        self.tint.setImage(rgba, autoLevels=False)
        self._tinted = True

    def _on_tint_toggled(self, _checked: bool) -> None:
        self._draw_tint()
