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
from lstm_desktop.ui.widgets.plot_axes import HoverPlotWidget, cache_static_parts

METRICS = [
    ("val_accuracy", "Validation accuracy (%)"),
    ("val_loss", "Validation loss"),
    ("train_loss", "Training loss"),
    ("train_accuracy", "Training accuracy (%)"),
    ("batch_loss", "Batch loss (smoothed)"),
]
LEGEND_WIDTH = 170
MAX_MARKED_RUNS = 8  # above this many runs the epoch markers are left out


def swatch(color: str, size: int = 12) -> QIcon:
    """A small filled square in a run's colour, for the legend list."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


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
        self.plot_widget = named(HoverPlotWidget(), "comparePlot", "Run comparison plot")
        self.plot_widget.setMinimumHeight(120)  # two datasets stacked still fit a 700 px tall window
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "epoch")
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        cache_static_parts(self.plot)
        self._curves: list[pg.PlotDataItem] = []
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
        self._stale = False
        key = self.metric_combo.currentData() or "val_accuracy"
        self.plot.setLabel("left", self.metric_combo.currentText(), color=self._theme.axis)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend.clear()
        series = [(run, *self._series(run, key)) for run in self._runs]
        series = [s for s in series if len(s[1])]
        while len(self._curves) < len(series):
            self._curves.append(self.plot.plot(antialias=True))
        # markers only for a few runs: with more they clutter, and each run's marker item cost about
        # as much to lay out and paint as its line (20 runs: half of the redraw)
        symbol = None if key == "batch_loss" or len(series) > MAX_MARKED_RUNS else "o"
        colors = self._theme.runs
        for i, curve in enumerate(self._curves):
            if i >= len(series):
                curve.setData([], [])
                curve.hide()
                continue
            run, x, y = series[i]
            color = colors[i % len(colors)]
            curve.setData(x, y, pen=pg.mkPen(color, width=2), symbol=symbol, symbolSize=5, symbolBrush=color,
                          symbolPen=color)
            curve.show()
            item = QListWidgetItem(swatch(color), str(run.label))
            item.setToolTip(str(run.label))
            self.legend.addItem(item)
        if not series:
            self.legend.addItem(QListWidgetItem("Tick runs in the list to compare them here."))
            self.legend.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        self.plot.enableAutoRange()
