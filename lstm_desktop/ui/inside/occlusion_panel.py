"""Occlusion: how the predicted class's probability changes when one row is blanked, one bar per
row, coloured by whether the row supported the prediction or argued against it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from lstm_desktop.core.models.introspect import Explanation
from lstm_desktop.ui.inside.plots import new_plot, nice_ceiling, pin_rows, row_positions, set_x_range
from lstm_desktop.ui.theme import Theme, style_plot
from lstm_desktop.ui.widgets.plot_axes import end_ticks


class OcclusionPanel:
    """The occlusion bars in column `col` of a plot layout."""

    def __init__(self, layout: pg.GraphicsLayout, col: int, theme: Theme) -> None:
        self.plot = new_plot(layout, "Row blanked", "occlusion", 0, col, bottom="Δ p(prediction)")
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.8, width=[], pen=None, brush="#888")
        self.plot.addItem(self.bars)
        # a finite zero line (an InfiniteLine would dirty the whole canvas on a range change)
        self.zero = pg.PlotCurveItem([0.0, 0.0], [0.5, 28.5])
        self.plot.addItem(self.zero)
        self.plot.setPreferredWidth(130)
        end_ticks(self.plot.getAxis("bottom"), -0.01, 0.01, zero=True)
        self._rows = row_positions(28)
        self._explanation: Explanation | None = None
        self._supports = pg.mkBrush(theme.val)  # blanking the row lowers p: it supported it
        self._against = pg.mkBrush(theme.train)

    def set_rows(self, T: int, F: int) -> None:
        pin_rows(self.plot, T)
        self.zero.setData([0.0, 0.0], [0.5, T + 0.5])
        self._rows = row_positions(T)

    def draw(self, ex: Explanation) -> None:
        self._explanation = ex
        d = ex.occlusion
        brushes = [self._against if v > 0 else self._supports for v in d]
        self.bars.setOpts(x0=np.minimum(d, 0.0), y=self._rows[:len(d)], width=np.abs(d), height=0.8,
                          brushes=brushes)
        # a round, symmetric range that changes only when the bars outgrow it (or shrink a lot)
        span = nice_ceiling(float(np.abs(d).max()) * 1.05, 0.01, (1, 2, 5, 10))
        set_x_range(self.plot, -span, span)

    def clear(self) -> None:
        self._explanation = None
        self.bars.setOpts(x0=[], y=[], width=[], height=0.8)

    def apply_theme(self, theme: Theme) -> None:
        """Axes, the zero line and the two bar colours; bars already drawn take the new colours."""
        style_plot(self.plot, theme)
        self.zero.setPen(pg.mkPen(theme.axis))
        self._supports = pg.mkBrush(theme.val)
        self._against = pg.mkBrush(theme.train)
        if self._explanation is not None:
            self.draw(self._explanation)
