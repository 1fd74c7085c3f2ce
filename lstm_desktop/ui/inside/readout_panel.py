"""The row-by-row readout: the class probabilities after each row, the top class marked, and the
row where the prediction stops changing; its colour bar beside it."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from lstm_desktop.core.models.introspect import Explanation
from lstm_desktop.ui.inside.plots import colour_bar, new_plot, pin_rows, row_positions, style_bar
from lstm_desktop.ui.theme import Theme, style_plot


class ReadoutPanel:
    """The readout heatmap in column `col` of a plot layout, its colour bar in column `col + 1`."""

    def __init__(self, layout: pg.GraphicsLayout, col: int) -> None:
        self.plot = new_plot(layout, "Readout after each row", "readout", 0, col, bottom="digit")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setPos(-0.5, 0.5)  # digit d centred on x = d
        self.plot.addItem(self.image)
        self.set_classes(10)
        # white on the viridis heatmap in every theme: these marks sit on the image, not the page
        self.top = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=1.2), brush=None, symbol="o")
        self.top.setZValue(5)
        self.plot.addItem(self.top)
        self.decision_line = pg.InfiniteLine(angle=0, movable=False,
                                             pen=pg.mkPen("#e8e8e8", width=1.5, style=Qt.PenStyle.DashLine))
        self.decision_line.setZValue(6)
        self.plot.addItem(self.decision_line)
        self.bar = colour_bar((0, 1), pg.colormap.get("viridis"), "probability")
        self.bar.setImageItem(self.image)
        layout.addItem(self.bar, row=0, col=col + 1)
        self._rows = row_positions(28)

    def set_rows(self, T: int, F: int) -> None:
        pin_rows(self.plot, T)
        self._rows = row_positions(T)

    def set_classes(self, C: int) -> None:
        self.plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(C)]])
        self.plot.setXRange(-0.5, C - 0.5, padding=0)

    def draw(self, ex: Explanation) -> None:
        self.image.setImage(ex.readout, autoLevels=False)
        self.top.setData(ex.readout.argmax(axis=1).astype(float), self._rows)
        if ex.decision_row < len(ex.readout):
            self.decision_line.setPos(ex.decision_row + 0.5)
            self.decision_line.show()
        else:
            self.decision_line.hide()

    def clear(self) -> None:
        self.image.clear()
        self.top.setData([], [])
        self.decision_line.hide()

    def apply_theme(self, theme: Theme) -> None:
        style_plot(self.plot, theme)
        style_bar(self.bar, theme)
