"""Live training curves (pyqtgraph): batch loss raw + EMA, epoch loss and accuracy, probe scores.

Data arrives in chunks and is appended to preallocated numpy buffers that grow by doubling; a QTimer
redraws at most 10 times a second, and only the curves whose data changed. The batch-loss lines are
AppendOnlyCurve items, which repaint only the strip that new batches add. X is measured in epochs
everywhere (1.0 = end of the first epoch), so the four plots share one crosshair. While training, the
x range is fixed to [0, epochs]: the axes are not re-rendered on every redraw, and the plots show how
far the run has come.
"""

from __future__ import annotations

import csv
import io
import math
import time
from typing import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QIODevice, Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QVBoxLayout, QWidget)

from lstm_desktop.core.atomic import atomic_write
from lstm_desktop.ui.widgets.append_curve import AppendOnlyCurve
from lstm_desktop.ui.widgets.common import (DIGIT_COLORS, EMA_COLOR, RAW_COLOR, TRAIN_COLOR, VAL_COLOR,
                                            muted, named)

REFRESH_MS = 100  # at most 10 redraws per second

pg.setConfigOptions(background="w", foreground="#303030", antialias=False)


def cache_static_parts(plot: pg.PlotItem) -> None:
    """Render axes (with their grid lines), title and legend into cached pixmaps.

    With a grid, each axis item covers the whole plot, so every curve update would replay the
    axes' tick text and grid; cached, they are blitted until their range really changes.
    """
    cache = pg.QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        if axis is not None:
            axis.setCacheMode(cache)
    plot.titleLabel.setCacheMode(cache)
    if plot.legend is not None:
        plot.legend.setCacheMode(cache)


class GrowingBuffer:
    """Rows of floats in a preallocated array that doubles when full (amortised O(1) appends)."""

    def __init__(self, columns: int, capacity: int = 1024) -> None:
        self._data = np.empty((capacity, columns), dtype=np.float64)
        self.n = 0

    def extend(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim == 1:
            rows = rows[None, :]
        need = self.n + len(rows)
        if need > len(self._data):
            capacity = len(self._data)
            while capacity < need:
                capacity *= 2
            grown = np.empty((capacity, self._data.shape[1]), dtype=np.float64)
            grown[: self.n] = self._data[: self.n]
            self._data = grown
        self._data[self.n:need] = rows
        self.n = need

    def view(self) -> np.ndarray:
        return self._data[: self.n]

    def clear(self) -> None:
        self.n = 0

    def __len__(self) -> int:
        return self.n


def ema(values: np.ndarray, weight: float, start: float | None = None) -> np.ndarray:
    """Exponential moving average y[n] = w*y[n-1] + (1-w)*x[n], y[-1] = start (default x[0]).

    Vectorised by blocks: inside a block y[k] = w^(k+1) y_prev + (1-w) w^k cumsum(x[j] w^-j), with
    blocks short enough that w^-j stays far from overflow.
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0 or weight <= 0.0:
        return x.copy()
    prev = float(x[0]) if start is None else float(start)
    block = int(max(1, min(512, 150.0 / -np.log10(weight)))) if weight < 1.0 else len(x)
    out = np.empty_like(x)
    powers = weight ** np.arange(block + 1, dtype=np.float64)
    inverse = 1.0 / powers[:-1]
    for i in range(0, len(x), block):
        chunk = x[i:i + block]
        n = len(chunk)
        acc = np.cumsum(chunk * inverse[:n]) * powers[:n] * (1.0 - weight)
        out[i:i + n] = acc + powers[1:n + 1] * prev
        prev = out[i + n - 1]
    return out


class LivePlots(QWidget):
    """Batch loss, epoch loss, epoch accuracy and probe plots with a shared toolbar."""

    smoothingChanged = Signal(float)
    logScaleChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("livePlots")
        self._batches = GrowingBuffer(2, 4096)       # x, loss
        self._ema = GrowingBuffer(1, 4096)
        self._epochs = GrowingBuffer(5, 64)          # x, train_loss, val_loss, train_acc, val_acc
        self._probe = GrowingBuffer(11, 64)          # x, p0..p9
        self._smoothing = 0.9
        self._dirty = False
        self._dirty_parts: set[str] = set()
        self._x_extent: float | None = None
        self._last_y_fit = 0.0
        self._title = ""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self._build_toolbar())
        # Four views, not one GraphicsLayoutWidget: a batch update then repaints only its own view.
        self.graphics = QWidget()
        self.graphics.setObjectName("curvesView")
        self.graphics.setMinimumSize(480, 360)
        self.graphics.setStyleSheet("#curvesView { background: white; }")
        self._grid = QGridLayout(self.graphics)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(0)
        layout.addWidget(self.graphics, 1)
        self._views: list[pg.PlotWidget] = []
        self._mouse_proxies: list[pg.SignalProxy] = []
        self._build_plots()

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    # ---- construction -------------------------------------------------------------------------
    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(QLabel("Smoothing"))
        self.smoothing_slider = named(QSlider(Qt.Orientation.Horizontal), "smoothingSlider",
                                      "Loss smoothing", "Weight of the exponential moving average drawn "
                                      "over the raw batch loss (0: none)")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(90)
        self.smoothing_slider.setFixedWidth(140)
        self.smoothing_slider.valueChanged.connect(self._on_smoothing)
        bar.addWidget(self.smoothing_slider)
        self.smoothing_value = QLabel("0.90")
        self.smoothing_value.setMinimumWidth(32)
        bar.addWidget(self.smoothing_value)
        self.log_check = named(QCheckBox("Log scale"), "logScaleCheck", "Logarithmic loss axis",
                               "Show the loss on a logarithmic axis")
        self.log_check.toggled.connect(self.set_log_scale)
        bar.addWidget(self.log_check)
        bar.addStretch(1)
        self.readout = named(muted("", wrap=False), "crosshairReadout", "Values under the cursor")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addWidget(self.readout, 4)
        self.export_png_button = named(QPushButton("PNG…"), "exportPngButton", "Export curves as PNG",
                                       "Save the plots as an image")
        self.export_csv_button = named(QPushButton("CSV…"), "exportCsvButton", "Export curves as CSV",
                                       "Save every curve as comma-separated values (Ctrl+E)")
        bar.addWidget(self.export_png_button)
        bar.addWidget(self.export_csv_button)
        return bar

    def _plot(self, row: int, col: int, title: str, ylabel: str, name: str) -> pg.PlotItem:
        view = named(pg.PlotWidget(), name, title)
        view.setMinimumSize(220, 170)
        self._grid.addWidget(view, row, col)
        self._views.append(view)
        plot = view.getPlotItem()
        plot.setTitle(title)
        self._mouse_proxies.append(pg.SignalProxy(view.scene().sigMouseMoved, rateLimit=30,
                                                  slot=lambda args, p=plot: self._on_mouse_moved(p, args)))
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", ylabel)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)  # "loss (x0.001)" with ticks of 400 reads badly
        plot.getAxis("left").setWidth(52)  # a fixed width: new tick labels do not re-lay-out the plot
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setMenuEnabled(False)
        plot.getViewBox().setMouseEnabled(x=True, y=True)
        line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#9aa0a6", width=1,
                                                                      style=Qt.PenStyle.DashLine))
        line.setVisible(False)
        plot.addItem(line, ignoreBounds=True)
        self._crosshairs.append(line)
        return plot

    def _build_plots(self) -> None:
        self._crosshairs: list[pg.InfiniteLine] = []
        self.batch_plot = self._plot(0, 0, "Batch loss", "loss", "batchLossPlot")
        self.loss_plot = self._plot(0, 1, "Loss per epoch", "loss", "epochLossPlot")
        self.acc_plot = self._plot(1, 0, "Accuracy per epoch", "accuracy (%)", "epochAccuracyPlot")
        self.probe_plot = self._plot(1, 1, "Probe: your drawing's scores", "probability", "probePlot")
        self.probe_plot.setYRange(0, 1, padding=0.02)

        # Appended to 10x a second while training: these items repaint only the new strip, so the
        # window takes next to no time (and GIL) from the training threads.
        self.raw_curve = AppendOnlyCurve(pg.mkPen(RAW_COLOR, width=1), "batch")
        self.ema_curve = AppendOnlyCurve(pg.mkPen(EMA_COLOR, width=2), "smoothed")
        self.batch_plot.addItem(self.raw_curve)
        self.batch_plot.addItem(self.ema_curve)
        self.batch_plot.addLegend(offset=(-10, 10)).setLabelTextColor("#303030")
        self.batch_plot.legend.addItem(self.raw_curve, "batch")
        self.batch_plot.legend.addItem(self.ema_curve, "smoothed")

        legend = self.loss_plot.addLegend(offset=(-10, 10))
        legend.setLabelTextColor("#303030")
        self.train_loss_curve = self.loss_plot.plot(
            pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=6, symbolBrush=TRAIN_COLOR,
            name="train", antialias=True)
        self.val_loss_curve = self.loss_plot.plot(
            pen=pg.mkPen(VAL_COLOR, width=2), symbol="s", symbolSize=6, symbolBrush=VAL_COLOR,
            name="validation", antialias=True)
        legend = self.acc_plot.addLegend(offset=(-10, -10))
        legend.setLabelTextColor("#303030")
        self.train_acc_curve = self.acc_plot.plot(
            pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=6, symbolBrush=TRAIN_COLOR,
            name="train", antialias=True)
        self.val_acc_curve = self.acc_plot.plot(
            pen=pg.mkPen(VAL_COLOR, width=2), symbol="s", symbolSize=6, symbolBrush=VAL_COLOR,
            name="validation", antialias=True)

        legend = self.probe_plot.addLegend(offset=(-10, 10), colCount=5)
        legend.setLabelTextColor("#303030")
        self.probe_curves = [self.probe_plot.plot(pen=pg.mkPen(DIGIT_COLORS[d], width=1.5), symbol="o",
                                                  symbolSize=4, symbolBrush=DIGIT_COLORS[d], name=str(d),
                                                  antialias=True)
                             for d in range(10)]
        self.probe_hint = pg.TextItem("Draw a digit on the Draw tab: its scores\nare plotted here after "
                                      "every epoch.", color="#5f6368", anchor=(0.5, 0.5))
        self.probe_plot.addItem(self.probe_hint, ignoreBounds=True)
        self.probe_plot.getViewBox().sigRangeChanged.connect(self._center_probe_hint)
        self._center_probe_hint()
        for plot in (self.batch_plot, self.loss_plot, self.acc_plot, self.probe_plot):
            cache_static_parts(plot)

    def _center_probe_hint(self, *args) -> None:
        (x0, x1), (y0, y1) = self.probe_plot.getViewBox().viewRange()
        self.probe_hint.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    # ---- data in ------------------------------------------------------------------------------
    def clear(self) -> None:
        for buf in (self._batches, self._ema, self._epochs, self._probe):
            buf.clear()
        self._mark_dirty("batches", "batches-all", "epoch-loss", "epoch-accuracy", "probe")
        self.refresh(everything=True)
        self.set_x_extent(None)
        self.readout.setText("")

    def set_x_extent(self, epochs: float | None) -> None:
        """Fix every plot's x range to [0, epochs] (while training), or None to auto-range again."""
        self._x_extent = epochs
        for plot in (self.batch_plot, self.loss_plot, self.acc_plot, self.probe_plot):
            if epochs:
                plot.setXRange(0, epochs, padding=0.02)
                plot.enableAutoRange(x=False, y=False)
            else:
                plot.enableAutoRange(x=True, y=plot is not self.probe_plot)

    def append_batches(self, xs: np.ndarray, losses: np.ndarray) -> None:
        if len(xs) == 0:
            return
        rows = np.column_stack([xs, losses])
        start = self._ema.view()[-1, 0] if len(self._ema) else None
        self._batches.extend(rows)
        self._ema.extend(ema(losses, self._smoothing, start)[:, None])
        self._mark_dirty("batches")

    def append_epoch(self, x: float, train_loss: float, val_loss: float, train_acc: float,
                     val_acc: float) -> None:
        self._epochs.extend(np.array([x, train_loss, val_loss, train_acc, val_acc]))
        self._mark_dirty("epoch-loss", "epoch-accuracy")

    def append_probe(self, x: float, probabilities: Sequence[float]) -> None:
        probs = np.zeros(10)
        values = np.asarray(probabilities, dtype=np.float64)[:10]
        probs[: len(values)] = values
        self._probe.extend(np.concatenate([[x], probs]))
        self._mark_dirty("probe")

    def show_history(self, history: dict, probe: Iterable[tuple[float, Sequence[float]]] = ()) -> None:
        """Replace the curves by a finished run's (a checkpoint's `history` dict)."""
        self.clear()
        bx = np.asarray(history.get("batch_x") or [], dtype=np.float64)
        bl = np.asarray(history.get("batch_loss") or [], dtype=np.float64)
        n = min(len(bx), len(bl))
        self.append_batches(bx[:n], bl[:n])
        epochs = history.get("epoch") or []
        cols = [history.get(k) or [] for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")]
        for i, e in enumerate(epochs):
            vals = [c[i] if i < len(c) else math.nan for c in cols]
            self.append_epoch(float(e), *vals)
        for x, probs in probe:
            self.append_probe(x, probs)
        self.refresh(everything=True)
        self.set_x_extent(None)

    def _mark_dirty(self, *parts: str) -> None:
        self._dirty = True
        self._dirty_parts.update(parts)
        if not self._timer.isActive():
            self._timer.start()

    # ---- drawing ------------------------------------------------------------------------------
    def refresh(self, everything: bool = False) -> None:
        """Push the buffers to the curve items (called by the timer; cheap when nothing changed).

        The batch curves are pushed on every call. Of the plots that change once an epoch (loss,
        accuracy, probe), each call redraws at most one unless `everything`: each of them costs
        ~10 ms of re-rendered axes, and done together they held the event loop for ~50 ms.
        """
        if not self._dirty:
            self._timer.stop()
            return
        parts = self._dirty_parts
        if "batches" in parts:
            b = self._batches.view()
            redraw = "batches-all" in parts
            for curve, y in ((self.raw_curve, b[:, 1]), (self.ema_curve, self._ema.view()[:, 0])):
                (curve.setData if redraw else curve.extend)(b[:, 0], y)
            if self._x_extent:
                self._fit_y_while_training()
            parts.difference_update(("batches", "batches-all"))
        slow = {"epoch-loss": self._draw_epoch_loss, "epoch-accuracy": self._draw_epoch_accuracy,
                "probe": self._draw_probe}
        for part in [p for p in slow if p in parts][: None if everything else 1]:
            slow[part]()
            parts.discard(part)
        self._dirty = bool(parts)

    def _draw_epoch_loss(self) -> None:
        e = self._epochs.view()
        self.train_loss_curve.setData(e[:, 0], e[:, 1])
        self.val_loss_curve.setData(*self._finite(e[:, 0], e[:, 2]))
        self._fit_epoch_plot(self.loss_plot)

    def _draw_epoch_accuracy(self) -> None:
        e = self._epochs.view()
        self.train_acc_curve.setData(e[:, 0], e[:, 3] * 100)
        self.val_acc_curve.setData(*self._finite(e[:, 0], e[:, 4] * 100))
        self._fit_epoch_plot(self.acc_plot)

    def _fit_epoch_plot(self, plot: pg.PlotItem) -> None:
        if self._x_extent:
            plot.getViewBox().autoRange(items=plot.listDataItems())
            plot.setXRange(0, self._x_extent, padding=0.02)

    def _draw_probe(self) -> None:
        p = self._probe.view()
        top = int(np.argmax(p[-1, 1:])) if len(p) else -1
        for d, curve in enumerate(self.probe_curves):
            curve.setData(p[:, 0], p[:, 1 + d])
            curve.setPen(pg.mkPen(DIGIT_COLORS[d], width=3.5 if d == top else 1.5))
        self.probe_hint.setVisible(len(p) == 0)

    def _fit_y_while_training(self) -> None:
        """Rescale the batch plot's y axis at most once a second, or at once when data leaves it.

        Auto-ranging on every redraw would re-render the axis (its tick text) 10 times a second.
        """
        if self.log_check.isChecked():
            self.batch_plot.enableAutoRange(y=True)
            return
        b = self._batches.view()
        if not len(b):
            return
        view = self.batch_plot.getViewBox()
        (_, _), (y0, y1) = view.viewRange()
        lo = float(np.nanmin(b[:, 1]))
        hi = float(np.nanmax(b[:, 1]))
        now = time.monotonic()
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return
        outside = hi > y1 or lo < y0
        if outside or now - self._last_y_fit > 1.0:
            top = hi * 1.05 if hi > 0 else 1.0
            if outside or abs(top - y1) > 0.02 * max(abs(y1), 1e-9) or y0 != 0.0:
                self.batch_plot.setYRange(0.0, top, padding=0.0)
            self._last_y_fit = now

    @staticmethod
    def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = np.isfinite(y)
        return x[ok], y[ok]

    def _on_smoothing(self, value: int) -> None:
        self._smoothing = value / 100.0
        self.smoothing_value.setText(f"{self._smoothing:.2f}")
        b = self._batches.view()
        self._ema.clear()
        if len(b):
            self._ema.extend(ema(b[:, 1], self._smoothing)[:, None])
        self._mark_dirty("batches", "batches-all")
        self.smoothingChanged.emit(self._smoothing)

    def set_smoothing(self, weight: float) -> None:
        self.smoothing_slider.setValue(int(round(max(0.0, min(0.99, weight)) * 100)))

    @property
    def smoothing(self) -> float:
        return self._smoothing

    def set_log_scale(self, on: bool) -> None:
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)
            return
        for plot in (self.batch_plot, self.loss_plot):
            plot.setLogMode(x=False, y=on)
        self.logScaleChanged.emit(on)

    # ---- crosshair ----------------------------------------------------------------------------
    def _on_mouse_moved(self, plot: pg.PlotItem, args) -> None:
        pos = args[0]
        view = plot.getViewBox()
        if view.sceneBoundingRect().contains(pos):
            self.show_crosshair(view.mapSceneToView(pos).x())
        else:
            self.show_crosshair(None)

    def show_crosshair(self, x: float | None) -> None:
        for line in self._crosshairs:
            line.setVisible(x is not None)
            if x is not None:
                line.setValue(x)
        self.readout.setText("" if x is None else self.readout_text(x))

    def readout_text(self, x: float) -> str:
        parts = [f"epoch {x:.2f}"]
        b = self._batches.view()
        if len(b):
            i = int(np.clip(np.searchsorted(b[:, 0], x), 0, len(b) - 1))
            parts.append(f"batch loss {b[i, 1]:.4f} (smoothed {self._ema.view()[i, 0]:.4f})")
        e = self._epochs.view()
        if len(e):
            i = int(np.clip(np.argmin(np.abs(e[:, 0] - x)), 0, len(e) - 1))
            parts.append(f"epoch {int(e[i, 0])}: loss {e[i, 1]:.4f}/{e[i, 2]:.4f}, "
                         f"acc {e[i, 3] * 100:.2f}%/{e[i, 4] * 100:.2f}% (train/val)")
        p = self._probe.view()
        if len(p):
            i = int(np.clip(np.argmin(np.abs(p[:, 0] - x)), 0, len(p) - 1))
            top = int(np.argmax(p[i, 1:]))
            parts.append(f"probe: {top} ({p[i, 1 + top] * 100:.0f}%)")
        return "  ·  ".join(parts)

    # ---- data out -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {"batches": len(self._batches), "epochs": len(self._epochs), "probe": len(self._probe)}

    def curve_rows(self) -> list[tuple[str, float, float]]:
        """Every curve as (curve, epoch, value) rows: the CSV export's content."""
        rows: list[tuple[str, float, float]] = []
        b = self._batches.view()
        rows += [("batch_loss", float(x), float(y)) for x, y in b]
        rows += [("batch_loss_smoothed", float(x), float(y)) for x, y in zip(b[:, 0], self._ema.view()[:, 0])]
        e = self._epochs.view()
        for col, name in ((1, "train_loss"), (2, "val_loss"), (3, "train_accuracy"), (4, "val_accuracy")):
            rows += [(name, float(x), float(y)) for x, y in zip(e[:, 0], e[:, col])]
        p = self._probe.view()
        for d in range(10):
            rows += [(f"probe_p{d}", float(x), float(y)) for x, y in zip(p[:, 0], p[:, 1 + d])]
        return rows

    def export_csv(self, path: str) -> None:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["curve", "epoch", "value"])
        for name, x, y in self.curve_rows():
            writer.writerow([name, f"{x:.6g}", "" if not math.isfinite(y) else f"{y:.8g}"])
        with atomic_write(path, "w") as fh:
            fh.write(text.getvalue())

    def export_png(self, path: str) -> None:
        self.refresh(everything=True)
        pixmap = self.graphics.grab()
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not pixmap.save(buffer, "PNG"):
            raise OSError("could not encode the plots as PNG")
        with atomic_write(path) as fh:
            fh.write(bytes(buffer.data()))
