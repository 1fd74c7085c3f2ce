"""Overlay the curves of several runs (validation accuracy, losses...) on one plot."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from lstm_desktop.ui.widgets.common import RUN_COLORS, heading, named
from lstm_desktop.ui.widgets.live_plots import cache_static_parts, ema

METRICS = [
    ("val_accuracy", "Validation accuracy (%)"),
    ("val_loss", "Validation loss"),
    ("train_loss", "Training loss"),
    ("train_accuracy", "Training accuracy (%)"),
    ("batch_loss", "Batch loss (smoothed)"),
]


class RunComparisonPlot(QWidget):
    """One curve item per ticked run, reused between redraws; redrawn only while visible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runComparison")
        self._runs: list = []
        self._stale = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(heading("Compare runs", 0))
        top.addStretch(1)
        top.addWidget(QLabel("Curve"))
        self.metric_combo = named(QComboBox(), "compareMetricCombo", "Curve to compare",
                                  "Which curve of the ticked runs to overlay")
        for key, text in METRICS:
            self.metric_combo.addItem(text, key)
        self.metric_combo.currentIndexChanged.connect(self.redraw)
        top.addWidget(self.metric_combo)
        layout.addLayout(top)
        self.plot_widget = named(pg.PlotWidget(), "comparePlot", "Run comparison plot")
        self.plot_widget.setMinimumHeight(200)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "epoch")
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.legend.setLabelTextColor("#303030")
        cache_static_parts(self.plot)
        self._curves: list[pg.PlotDataItem] = []
        layout.addWidget(self.plot_widget, 1)

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
        self.plot.setLabel("left", self.metric_combo.currentText())
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend.clear()
        series = [(run, *self._series(run, key)) for run in self._runs]
        series = [s for s in series if len(s[1])]
        while len(self._curves) < len(series):
            self._curves.append(self.plot.plot(antialias=True))
        symbol = None if key == "batch_loss" else "o"
        for i, curve in enumerate(self._curves):
            if i >= len(series):
                curve.setData([], [])
                curve.hide()
                continue
            run, x, y = series[i]
            color = RUN_COLORS[i % len(RUN_COLORS)]
            curve.setData(x, y, pen=pg.mkPen(color, width=2), symbol=symbol, symbolSize=5, symbolBrush=color,
                          symbolPen=color)
            curve.show()
            self.legend.addItem(curve, run.label)
        self.plot.enableAutoRange()
