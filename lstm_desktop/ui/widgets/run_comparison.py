"""Overlay the curves of several runs (validation accuracy, losses...) on one plot."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from lstm_desktop.ui.widgets.common import RUN_COLORS, heading, named
from lstm_desktop.ui.widgets.live_plots import ema

METRICS = [
    ("val_accuracy", "Validation accuracy (%)"),
    ("val_loss", "Validation loss"),
    ("train_loss", "Training loss"),
    ("train_accuracy", "Training accuracy (%)"),
    ("batch_loss", "Batch loss (smoothed)"),
]


class RunComparisonPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runComparison")
        self._runs: list = []
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
        layout.addWidget(self.plot_widget, 1)

    def set_runs(self, runs: Iterable) -> None:
        self._runs = list(runs)
        self.redraw()

    def curve_count(self) -> int:
        return len(self.plot.listDataItems())

    def redraw(self) -> None:
        key = self.metric_combo.currentData() or "val_accuracy"
        self.plot.clear()
        self.legend.clear()
        self.plot.setLabel("left", self.metric_combo.currentText())
        for i, run in enumerate(self._runs):
            h = run.history or {}
            if key == "batch_loss":
                x = np.asarray(h.get("batch_x") or [], dtype=float)
                y = np.asarray(h.get("batch_loss") or [], dtype=float)
                n = min(len(x), len(y))
                x, y = x[:n], ema(y[:n], 0.9)
            else:
                x = np.asarray(h.get("epoch") or [], dtype=float)
                y = np.asarray(h.get(key) or [], dtype=float)
                n = min(len(x), len(y))
                x, y = x[:n], y[:n]
                if key.endswith("accuracy"):
                    y = y * 100
            ok = np.isfinite(y)
            if not ok.any():
                continue
            color = RUN_COLORS[i % len(RUN_COLORS)]
            symbol = None if key == "batch_loss" else "o"
            self.plot.plot(x[ok], y[ok], pen=pg.mkPen(color, width=2), symbol=symbol, symbolSize=5,
                           symbolBrush=color, name=run.label, antialias=True)
