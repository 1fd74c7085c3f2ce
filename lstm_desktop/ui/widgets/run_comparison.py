"""Overlay the curves of several runs (validation accuracy, losses...) on one plot.

The legend is a list beside the plot, not an item inside it: a legend over the plot area covered
the curves (the accuracy curves end exactly in its top-right corner). Colours follow the palette.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QVBoxLayout, QWidget)

from lstm_desktop.ui.theme import Theme, theme_for
from lstm_desktop.ui.widgets.themed_plot import ThemedPlotMixin
from lstm_desktop.ui.widgets.common import heading, named
from lstm_desktop.ui.widgets.curve_buffers import ema
from lstm_desktop.ui.widgets.plot_axes import HoverPlotWidget, cache_static_parts, paint_once_when_shown, settle

METRICS = [
    ("val_accuracy", "Validation accuracy (%)"),
    ("val_loss", "Validation loss"),
    ("train_loss", "Training loss"),
    ("train_accuracy", "Training accuracy (%)"),
    ("batch_loss", "Batch loss (smoothed)"),
]
LEGEND_WIDTH = 170
MANY_POINTS = 20_000  # above this many points in all the curves, they are clipped and downsampled
MAX_MARKED_RUNS = 8  # above this many runs the epoch markers are left out


_SWATCHES: dict[tuple[str, int], QIcon] = {}


def swatch(color: str, size: int = 12) -> QIcon:
    """A small filled square in a run's colour, for the legend list (made once per colour)."""
    icon = _SWATCHES.get((color, size))
    if icon is None:
        pixmap = QPixmap(size, size)
        pixmap.fill(QColor(color))
        icon = _SWATCHES[(color, size)] = QIcon(pixmap)
    return icon


class RunComparisonPlot(ThemedPlotMixin, QWidget):
    """One curve item per ticked run, reused between redraws; redrawn only while visible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runComparison")
        self._runs: list = []
        self._stale = True
        self._theme: Theme = theme_for(self.palette())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = heading("Compare runs", 0)
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(QLabel("Curve"))
        self.metric_combo = named(QComboBox(), "compareMetricCombo", "Curve to compare",
                                  "Which curve of the ticked runs to overlay")
        for key, text in METRICS:
            self.metric_combo.addItem(text, key)
        self.metric_combo.currentIndexChanged.connect(self.redraw)
        top.addWidget(self.metric_combo)
        layout.addLayout(top)
        body = QHBoxLayout()
        body.setSpacing(4)
        self.plot_widget = named(HoverPlotWidget(whole_x=True), "comparePlot", "Run comparison plot")  # x: epochs
        self.plot_widget.setMinimumHeight(120)  # two datasets stacked still fit a 700 px tall window
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "epoch")
        self._thinned = False  # clip to view and downsample: only for long curves (see redraw)
        cache_static_parts(self.plot)
        paint_once_when_shown(self.plot_widget)
        self._curves: list[pg.PlotDataItem] = []
        self._styles: list[tuple | None] = []  # each curve's (colour, symbol) as last set
        self._drawn: tuple | None = None  # what the plot shows: (curve, theme, runs' ids, labels and values)
        self._legend_entries: list[tuple[str, str]] = []
        body.addWidget(self.plot_widget, 1)
        self.legend = named(QListWidget(), "compareLegend", "Runs in the comparison",
                            "The colour of each ticked run's curve")
        self.legend.setFixedWidth(LEGEND_WIDTH)
        self.legend.setIconSize(QSize(12, 12))
        self.legend.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.legend.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.legend.setWordWrap(True)  # long run labels wrap; the tooltip has them whole
        self.legend.setFrameShape(QListWidget.Shape.NoFrame)
        body.addWidget(self.legend)
        layout.addLayout(body, 1)
        self.apply_theme(self._theme)

    # ---- data ---------------------------------------------------------------------------------
    def set_title(self, text: str) -> None:
        """The heading above the plot (e.g. "Compare runs on mnist")."""
        self.title.setText(text)

    def set_runs(self, runs: Iterable) -> None:
        self._runs = list(runs)
        self._stale = True
        if self.isVisible():
            self.redraw()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._stale:
            self.redraw()

    def prepare_curves(self, count: int) -> bool:
        """Make curve items for `count` runs ahead of need (empty); False when there are that many."""
        if len(self._curves) >= count:
            return False
        while len(self._curves) < count:
            curve = self.plot.plot(antialias=True)
            curve.hide()  # shown when it gets a run (style None: hidden, see redraw)
            self._curves.append(curve)
            self._styles.append(None)
        return True

    def curve_count(self) -> int:
        if self._stale:
            self.redraw()
        return sum(1 for c in self._curves if c.isVisible())

    def legend_labels(self) -> list[str]:
        """The run labels in the legend, in curve order."""
        items = [self.legend.item(i) for i in range(self.legend.count())]
        return [it.text() for it in items if it.flags() != Qt.ItemFlag.NoItemFlags]

    def _series(self, run, key: str) -> tuple[np.ndarray, np.ndarray]:
        h = run.history or {}
        if key == "batch_loss":
            x = np.asarray(h.get("batch_x") or [], dtype=float)
            y = np.asarray(h.get("batch_loss") or [], dtype=float)
            n = min(len(x), len(y))
            return x[:n], ema(y[:n], 0.9)
        x = np.asarray(h.get("epoch") or [], dtype=float)
        y = np.asarray(h.get(key) or [], dtype=float)
        n = min(len(x), len(y))
        x, y = x[:n], y[:n]
        if key.endswith("accuracy"):
            y = y * 100
        ok = np.isfinite(y)
        return x[ok], y[ok]

    def redraw(self) -> None:
        """Draw the ticked runs' curves; nothing is touched when what would be drawn is what is shown
        (the same runs, curve, values and theme), and a curve's style is set only when it changes."""
        self._stale = False
        key = self.metric_combo.currentData() or "val_accuracy"
        series = [(run, *self._series(run, key)) for run in self._runs]
        series = [s for s in series if len(s[1])]
        colors = self._theme.runs
        drawn = (key, self._theme, [(id(run), str(run.label), x.tobytes(), y.tobytes()) for run, x, y in series])
        if drawn == self._drawn:
            return
        self._drawn = drawn
        # clipping and downsampling redo every curve on each change of the view's range (twice per
        # redraw): worth it for long batch curves, not for a few epochs' points
        thinned = sum(len(x) for _run, x, _y in series) > MANY_POINTS
        if thinned != self._thinned:
            self._thinned = thinned
            self.plot.setClipToView(thinned)
            self.plot.setDownsampling(auto=thinned, mode="peak")
        self.plot.setLabel("left", self.metric_combo.currentText(), color=self._theme.axis)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        while len(self._curves) < len(series):
            self._curves.append(self.plot.plot(antialias=True))
            self._styles.append(None)
        # markers only for a few runs: with more they clutter, and each run's marker item cost about
        # as much to lay out and paint as its line (20 runs: half of the redraw)
        symbol = None if key == "batch_loss" or len(series) > MAX_MARKED_RUNS else "o"
        for i, curve in enumerate(self._curves):
            if i >= len(series):
                if self._styles[i] is not None:
                    curve.setData([], [])
                    curve.hide()
                    self._styles[i] = None
                continue
            run, x, y = series[i]
            color = colors[i % len(colors)]
            if self._styles[i] != (color, symbol):
                self._styles[i] = (color, symbol)
                curve.setData(x, y, pen=pg.mkPen(color, width=2), symbol=symbol, symbolSize=5, symbolBrush=color,
                              symbolPen=color)
            else:
                curve.setData(x, y)
            curve.show()
        self._fill_legend([(colors[i % len(colors)], str(run.label)) for i, (run, _x, _y) in enumerate(series)])
        self.plot.enableAutoRange()
        settle(self.plot)

    def _fill_legend(self, entries: list[tuple[str, str]]) -> None:
        """The legend's (colour, label) rows, rebuilt only when they change."""
        if entries == self._legend_entries and self.legend.count():
            return
        self._legend_entries = entries
        self.legend.clear()
        for color, label in entries:
            item = QListWidgetItem(swatch(color), label)
            item.setToolTip(label)
            self.legend.addItem(item)
        if not entries:
            self.legend.addItem(QListWidgetItem("Tick runs in the list to compare them here."))
            self.legend.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
