"""The gradient through time, made visible: the mean norm of dLoss/dh_t at every time step t.

Top: one line per epoch (its last measurement) on a log axis, the newest in bold, the live
measurement dashed. Bottom: the same as a heatmap, epoch by time step (log10 of the norm). In
comparison mode (`set_runs`) each selected run's last measurement is one labelled line, so an RNN,
a GRU and an LSTM trained on the same task can be seen side by side.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from superqt.utils import qthrottled

from lstm_desktop.ui.theme import style_view, theme_for
from lstm_desktop.ui.widgets.common import named

FLOOR = 1e-12  # log10 of a zero norm


def epoch_lines(measurements: list[tuple[float, list[float]]]) -> list[tuple[int, np.ndarray]]:
    """(epoch number, norms) of the last measurement in each epoch, in order."""
    last: dict[int, np.ndarray] = {}
    for progress, norms in measurements:
        epoch = max(1, int(math.ceil(float(progress) - 1e-9)))
        last[epoch] = np.asarray(norms, dtype=np.float64)
    return sorted(last.items())

REDRAW_MS = 200  # the measurements of a fast run (digits: 20 epochs a second) arrive faster than that


class GradientFlowView(QWidget):
    def __init__(self, parent: QWidget | None = None, heatmap: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("gradientFlowView")
        self.setAccessibleName("Gradient flow through time")
        self.measurements: list[tuple[float, list[float]]] = []
        self._runs: list = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.note = named(QLabel(""), "gradientFlowNote", "What the gradient-flow plot shows")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.view = named(pg.PlotWidget(), "gradientFlowPlot", "Gradient norm per time step")
        self.plot = self.view.getPlotItem()
        self.plot.setTitle("Gradient reaching each time step: mean ‖∂Loss/∂hₜ‖")
        self.plot.setLabel("bottom", "time step t")
        self.plot.setLabel("left", "gradient norm (log)")
        self.plot.setLogMode(x=False, y=True)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setMenuEnabled(False)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        layout.addWidget(self.view, 3)
        self.heat_view = named(pg.PlotWidget(), "gradientFlowHeatmap", "Gradient norm by epoch and time step")
        self.heat = self.heat_view.getPlotItem()
        self.heat.setTitle("log₁₀ gradient norm: epoch × time step")
        self.heat.setLabel("bottom", "time step t")
        self.heat.setLabel("left", "epoch")
        self.heat.setMenuEnabled(False)
        self.heat_image = pg.ImageItem(axisOrder="row-major")
        self.heat.addItem(self.heat_image)
        self.heat_bar = pg.ColorBarItem(values=(-8, 0), colorMap=pg.colormap.get("viridis"), interactive=False,
                                        width=12, label="log₁₀ norm", colorMapMenu=False)
        self.heat_bar.setImageItem(self.heat_image, insert_in=self.heat)
        self.heat_view.setVisible(heatmap)
        layout.addWidget(self.heat_view, 2)
        self._lines: list[pg.PlotDataItem] = []
        # a fast run measures many times a second: redraw at most every REDRAW_MS (the first at once)
        self._redraw_soon = qthrottled(self._redraw, REDRAW_MS, leading=True, parent=self)
        self._apply_theme()
        self.clear()

    # ---- data -----------------------------------------------------------------------------------
    def clear(self) -> None:
        self.measurements = []
        self._runs = []
        self._redraw()

    def add_measurement(self, epoch: int, progress: float, norms: np.ndarray) -> None:
        self.measurements.append((float(progress), [float(v) for v in norms]))
        self._redraw_soon()

    def set_history(self, measurements) -> None:
        """A finished run's measurements: [(progress in epochs, norms per step), ...]."""
        self._runs = []
        self.measurements = [(float(p), list(n)) for p, n in (measurements or [])]
        self._redraw()

    def set_runs(self, runs) -> None:
        """Comparison: each run's last measurement as one line, labelled with the run."""
        self._runs = [r for r in runs if r.gradient_flow]
        self._redraw_soon()

    def first_to_last_ratio(self, steps_back: int | None = None) -> float | None:
        """Norm at the first step (or `steps_back` before the end) over the last step's, latest line."""
        if not self.measurements:
            return None
        norms = np.asarray(self.measurements[-1][1])
        first = norms[0] if steps_back is None else norms[max(0, len(norms) - 1 - steps_back)]
        return float(first / norms[-1]) if norms[-1] > 0 else None

    # ---- drawing --------------------------------------------------------------------------------
    def _line(self, i: int) -> pg.PlotDataItem:
        while len(self._lines) <= i:
            self._lines.append(self.plot.plot(antialias=True))
        return self._lines[i]

    def _redraw(self) -> None:
        self.legend.clear()
        theme = theme_for(self.palette())
        series: list[tuple[str, np.ndarray, object]] = []
        if self._runs:
            for i, run in enumerate(self._runs):
                norms = np.asarray(run.gradient_flow[-1][1], dtype=np.float64)
                series.append((run.label, norms, pg.mkPen(theme.runs[i % len(theme.runs)], width=2.5)))
        else:
            lines = epoch_lines(self.measurements)
            cmap = pg.colormap.get("viridis")
            for k, (epoch, norms) in enumerate(lines):
                t = k / max(1, len(lines) - 1)
                newest = k == len(lines) - 1
                color = cmap.map(0.15 + 0.8 * t, mode="qcolor")
                series.append((f"epoch {epoch}" if (newest or k == 0 or len(lines) <= 6) else "", norms,
                               pg.mkPen(color, width=3 if newest else 1.3)))
        for i, line in enumerate(self._lines):
            if i >= len(series):
                line.setData([], [])
        for i, (label, norms, pen) in enumerate(series):
            steps = np.arange(1, len(norms) + 1, dtype=np.float64)
            line = self._line(i)
            line.setData(steps, np.maximum(norms, FLOOR), pen=pen)
            if label:
                self.legend.addItem(line, label)
        self.legend.setVisible(any(label for label, _, _ in series))  # no empty box over an empty plot
        self._draw_heatmap()
        if self._runs:
            self.note.setText("Each selected run's last measurement. A line that falls towards the first steps "
                              "means the early inputs get almost no gradient: the network cannot learn from them.")
        elif self.measurements:
            ratio = self.first_to_last_ratio()
            self.note.setText(f"{len(self.measurements)} measurements on a fixed batch. Now the gradient at the "
                              f"first step is {ratio:.2g}× the last step's." if ratio is not None else "")
        else:
            self.note.setText("Measured on a small fixed batch a few times per epoch while the model trains "
                              "(Help › Why LSTMs? explains what to look for).")

    def _draw_heatmap(self) -> None:
        lines = epoch_lines(self.measurements) if not self._runs else []
        if not lines:
            self.heat_image.clear()
            return
        steps = max(len(n) for _, n in lines)
        grid = np.full((len(lines), steps), np.nan)
        for r, (_, norms) in enumerate(lines):
            grid[r, : len(norms)] = np.log10(np.maximum(norms, FLOOR))
        lo, hi = float(np.nanmin(grid)), float(np.nanmax(grid))
        self.heat_image.setImage(np.nan_to_num(grid, nan=lo), autoLevels=False)
        self.heat_image.setRect(0.5, 0.5, steps, len(lines))
        self.heat_bar.setLevels((math.floor(lo), math.ceil(hi) if hi > lo else lo + 1))

    def _apply_theme(self) -> None:
        theme = theme_for(self.palette())
        for view in (self.view, self.heat_view):
            style_view(view, theme)
        self.note.setStyleSheet(f"color: {theme.muted};")

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_theme()
            self._redraw()
