"""How much each row counts in the model's summary: one bar per row, or a note where the model has
no attention layer."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from lstm_desktop.core.models.introspect import Explanation
from lstm_desktop.ui.inside.plots import ATTENTION_RGB, new_plot, nice_ceiling, pin_rows, row_positions, set_x_range
from lstm_desktop.ui.theme import Theme, style_plot
from lstm_desktop.ui.widgets.plot_axes import end_ticks


class AttentionPanel:
    """The attention bars in column `col` of a plot layout."""

    def __init__(self, layout: pg.GraphicsLayout, col: int, theme: Theme) -> None:
        self._theme = theme
        self.plot = new_plot(layout, "Attention", "attention", 0, col, bottom="weight")
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.8, width=[], brush=QColor(*ATTENTION_RGB, 200),
                                    pen=None)
        self.plot.addItem(self.bars)
        self.note = pg.TextItem("no attention\nlayer in\nthis model", anchor=(0.5, 0.5))
        self.plot.addItem(self.note)
        self.plot.setPreferredWidth(90)
        end_ticks(self.plot.getAxis("bottom"), 0.0, 1.0)
        self._rows = row_positions(28)
        self._drawn = False

    def set_rows(self, T: int, F: int) -> None:
        pin_rows(self.plot, T)
        self.note.setPos(0.5, T / 2 + 0.5)
        self._rows = row_positions(T)

    def configure(self, attention: bool) -> None:
        """Bars for a model with attention; the note, greyed, for one without."""
        self.note.setVisible(not attention)
        self.plot.setEnabled(attention)
        self.plot.getAxis("bottom").setStyle(showValues=attention)
        self.plot.setTitle("Attention" if attention else "Attention (none)", **self._theme.title_style)

    def draw(self, ex: Explanation) -> None:
        if ex.attention is not None:
            w = ex.attention
            self.bars.setOpts(x0=np.zeros(len(w)), y=self._rows, width=w, height=0.8)
            set_x_range(self.plot, 0.0, nice_ceiling(float(w.max()) * 1.05, 0.05, (1, 2, 5, 10)))
            self._drawn = True
        elif self._drawn:  # clear once, not on every update: empty items are costly
            self.clear()

    def clear(self) -> None:
        self.bars.setOpts(x0=[], y=[], width=[], height=0.8)
        set_x_range(self.plot, 0.0, 1.0)
        self._drawn = False

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        style_plot(self.plot, theme)
        self.note.setColor(theme.muted)
