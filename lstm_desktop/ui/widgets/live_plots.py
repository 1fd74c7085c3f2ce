"""Live training curves (pyqtgraph): batch loss raw + EMA, epoch loss and accuracy, probe scores.

Data arrives in chunks and is appended to preallocated numpy buffers that grow by doubling; superqt's
qthrottled redraws at most 10 times a second, and only the curves whose data changed. The batch-loss
lines are AppendOnlyCurve items, which repaint only the strip that new batches add. X is measured in epochs
everywhere (1.0 = end of the first epoch), so the four plots share one crosshair. While training, the
x range is fixed to [0, epochs]: the axes are not re-rendered on every redraw, and the plots show how
far the run has come.

Colours come from `ui.theme` and follow the palette (re-themed on every palette change). The
crosshair hides when the mouse leaves a plot and is never part of an export; PNG exports are drawn
at twice the screen resolution, and the CSV names the run its curves belong to.
"""

from __future__ import annotations

import time
from typing import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget
from superqt.utils import qthrottled

from lstm_desktop.ui.theme import FollowsPalette, Theme, set_pyqtgraph_defaults, style_symbols, style_view, theme_for
from lstm_desktop.ui.widgets.append_curve import AppendOnlyCurve
from lstm_desktop.ui.widgets.common import named
from lstm_desktop.ui.widgets.curve_buffers import GrowingBuffer, ema
from lstm_desktop.ui.widgets.curve_store import CurveStore
from lstm_desktop.ui.widgets.curves_toolbar import CurvesToolbar
from lstm_desktop.ui.widgets.plot_axes import HoverPlotWidget, cache_static_parts
from lstm_desktop.ui.widgets.plot_export import EXPORT_SCALE, hidden, save_csv, save_png

__all__ = ["LivePlots", "GrowingBuffer", "ema", "cache_static_parts"]  # the last three: old imports

PROBE_HINT = "Draw a digit on the Draw tab: its scores\nare plotted here after every epoch."
REFRESH_MS = 100  # at most 10 redraws per second

pg.setConfigOptions(antialias=False)
set_pyqtgraph_defaults(theme_for())


class LivePlots(FollowsPalette, QWidget):
    """Batch loss, epoch loss, epoch accuracy and probe plots with a shared toolbar."""

    smoothingChanged = Signal(float)
    logScaleChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("livePlots")
        self.store = CurveStore(0.9)
        s = self.store  # its buffers, by their old names (read on every redraw)
        self._batches, self._ema, self._epochs, self._probe = s.batches, s.ema, s.epochs, s.probe
        self._dirty = False
        self._dirty_parts: set[str] = set()
        self._x_extent: float | None = None
        self._last_y_fit = 0.0
        self._run = ""
        self._theme: Theme = theme_for(self.palette())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        tb = self.toolbar = CurvesToolbar()
        layout.addWidget(tb)
        self.smoothing_slider, self.smoothing_value, self.log_check = (tb.smoothing_slider, tb.smoothing_value,
                                                                       tb.log_check)
        self.readout, self.export_png_button, self.export_csv_button = (tb.readout, tb.export_png_button,
                                                                        tb.export_csv_button)
        self.smoothing_slider.valueChanged.connect(self._on_smoothing)
        self.log_check.toggled.connect(self.set_log_scale)
        # Four views, not one GraphicsLayoutWidget: a batch update then repaints only its own view.
        self.graphics = QWidget()
        self.graphics.setObjectName("curvesView")
        self.graphics.setMinimumSize(480, 360)
        self._grid = QGridLayout(self.graphics)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(0)
        layout.addWidget(self.graphics, 1)
        self._views: list[pg.PlotWidget] = []
        self._mouse_proxies: list[pg.SignalProxy] = []
        self._build_plots()

        self._scheduled = qthrottled(self.refresh, REFRESH_MS, leading=False, parent=self)
        self.apply_theme(self._theme)

    # ---- construction -------------------------------------------------------------------------
    def _plot(self, row: int, col: int, title: str, ylabel: str, name: str) -> pg.PlotItem:
        view = named(HoverPlotWidget(on_leave=self._on_mouse_left, whole_x=True), name, title)  # x: epochs
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
        line = pg.InfiniteLine(angle=90, movable=False)
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
        self.raw_curve = AppendOnlyCurve(pg.mkPen("#b9d3ea", width=1), "batch")
        self.ema_curve = AppendOnlyCurve(pg.mkPen("#1f4e9c", width=2), "smoothed")
        self.batch_plot.addItem(self.raw_curve)
        self.batch_plot.addItem(self.ema_curve)
        self.batch_plot.addLegend(offset=(-10, 10))
        self.batch_plot.legend.addItem(self.raw_curve, "batch")
        self.batch_plot.legend.addItem(self.ema_curve, "smoothed")

        self.loss_plot.addLegend(offset=(-10, 10))
        self.train_loss_curve = self.loss_plot.plot(symbol="o", symbolSize=6, name="train", antialias=True)
        self.val_loss_curve = self.loss_plot.plot(symbol="s", symbolSize=6, name="validation", antialias=True)
        self.acc_plot.addLegend(offset=(-10, -10))
        self.train_acc_curve = self.acc_plot.plot(symbol="o", symbolSize=6, name="train", antialias=True)
        self.val_acc_curve = self.acc_plot.plot(symbol="s", symbolSize=6, name="validation", antialias=True)

        self.probe_plot.addLegend(offset=(-10, 10), colCount=5)
        self.probe_curves = [self.probe_plot.plot(symbol="o", symbolSize=4, name=str(d), antialias=True)
                             for d in range(10)]
        self.probe_hint = pg.TextItem(PROBE_HINT, anchor=(0.5, 0.5))
        self.probe_plot.addItem(self.probe_hint, ignoreBounds=True)
        self.probe_plot.getViewBox().sigRangeChanged.connect(self._center_probe_hint)
        self._center_probe_hint()
        for plot in (self.batch_plot, self.loss_plot, self.acc_plot, self.probe_plot):
            cache_static_parts(plot)

    # ---- theme ----------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        """Re-colour backgrounds, axes, legends, curves and the crosshair (palette changes only)."""
        self._theme = theme
        for view in self._views:
            style_view(view, theme)
        self.raw_curve.setPen(pg.mkPen(theme.raw, width=1))
        self.ema_curve.setPen(pg.mkPen(theme.ema, width=2))
        for curve, color in ((self.train_loss_curve, theme.train), (self.val_loss_curve, theme.val),
                             (self.train_acc_curve, theme.train), (self.val_acc_curve, theme.val)):
            curve.setPen(pg.mkPen(color, width=2))
            style_symbols(curve, color, pg.mkPen(theme.background, width=1))
        for d, curve in enumerate(self.probe_curves):
            style_symbols(curve, theme.digits[d], pg.mkPen(theme.digits[d]))
        self._draw_probe()
        for plot in (self.batch_plot, self.loss_plot, self.acc_plot, self.probe_plot):
            plot.legend.update()  # its cached picture has the old sample colours
        pen = pg.mkPen(theme.crosshair, width=1, style=Qt.PenStyle.DashLine)
        for line in self._crosshairs:
            line.setPen(pen)
        self.probe_hint.setColor(theme.muted)

    @property
    def theme(self) -> Theme:
        return self._theme


    def _center_probe_hint(self, *args) -> None:
        (x0, x1), (y0, y1) = self.probe_plot.getViewBox().viewRange()
        self.probe_hint.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    # ---- data in ------------------------------------------------------------------------------
    def clear(self) -> None:
        self.store.clear()
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
        self.store.append_batches(xs, losses)
        self._mark_dirty("batches")

    def append_epoch(self, x: float, train_loss: float, val_loss: float, train_acc: float,
                     val_acc: float) -> None:
        self.store.append_epoch(x, train_loss, val_loss, train_acc, val_acc)
        self._mark_dirty("epoch-loss", "epoch-accuracy")

    def append_probe(self, x: float, probabilities: Sequence[float]) -> None:
        self.store.append_probe(x, probabilities)
        self._mark_dirty("probe")

    def show_history(self, history: dict, probe: Iterable[tuple[float, Sequence[float]]] = (),
                     run: str | None = None) -> None:
        """Replace the curves by a finished run's (a checkpoint's `history` dict); `run` names it
        in the CSV export (see set_run_label)."""
        self.clear()
        if run is not None:
            self.set_run_label(run)
        self.store.add_history(history)
        for x, probs in probe:
            self.store.append_probe(x, probs)
        self._mark_dirty("batches", "batches-all", "epoch-loss", "epoch-accuracy", "probe")
        self.refresh(everything=True)
        self.set_x_extent(None)

    def _mark_dirty(self, *parts: str) -> None:
        self._dirty = True
        self._dirty_parts.update(parts)
        self._scheduled()

    # ---- drawing ------------------------------------------------------------------------------
    def refresh(self, everything: bool = False) -> None:
        """Push the buffers to the curve items (called by the throttle; cheap when nothing changed).

        The batch curves are pushed on every call. Of the plots that change once an epoch (loss,
        accuracy, probe), each call redraws at most one unless `everything`: each of them costs
        ~10 ms of re-rendered axes, and done together they held the event loop for ~50 ms.
        """
        if not self._dirty:
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
        if self._dirty:  # one slow plot per call: come back for the others
            self._scheduled()

    def _draw_epoch_loss(self) -> None:
        e = self._epochs.view()
        self.train_loss_curve.setData(*self._finite(e[:, 0], e[:, 1]))
        self.val_loss_curve.setData(*self._finite(e[:, 0], e[:, 2]))
        self._fit_epoch_plot(self.loss_plot)

    def _draw_epoch_accuracy(self) -> None:
        e = self._epochs.view()
        self.train_acc_curve.setData(*self._finite(e[:, 0], e[:, 3] * 100))
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
            curve.setPen(pg.mkPen(self._theme.digits[d], width=3.5 if d == top else 1.5))
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
        self.store.set_smoothing(value / 100.0)
        self.smoothing_value.setText(f"{self.store.smoothing:.2f}")
        self._mark_dirty("batches", "batches-all")
        self.smoothingChanged.emit(self.store.smoothing)

    def set_smoothing(self, weight: float) -> None:
        self.smoothing_slider.setValue(int(round(max(0.0, min(0.99, weight)) * 100)))

    @property
    def smoothing(self) -> float:
        return self.store.smoothing

    def set_log_scale(self, on: bool) -> None:
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)
            return
        for plot in (self.batch_plot, self.loss_plot):
            plot.setLogMode(x=False, y=on)
        self.logScaleChanged.emit(on)

    # ---- crosshair ----------------------------------------------------------------------------
    def _on_mouse_left(self) -> None:
        """The pointer left a plot: drop the moves still queued in the rate limiters, then hide."""
        for proxy in self._mouse_proxies:
            proxy.block = True
            proxy.flush()
            proxy.block = False
        self.show_crosshair(None)

    def crosshair_visible(self) -> bool:
        return any(line.isVisible() for line in self._crosshairs)

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
        return self.store.readout_text(x)

    # ---- data out -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def curve_rows(self) -> list[tuple[str, float, float]]:
        """Every curve as (curve, epoch, value) rows: the CSV export's content."""
        return self.store.curve_rows()

    def set_run_label(self, text: str) -> None:
        """The run the curves belong to (e.g. "run 3" or a checkpoint's name): the CSV's run column."""
        self._run = str(text or "")

    @property
    def run_id(self) -> str:
        return self._run

    def export_csv(self, path: str) -> None:
        """Every curve as run, curve, epoch, value rows."""
        save_csv(self.curve_rows(), path, self._run)

    def export_png(self, path: str, scale: float = EXPORT_SCALE) -> QImage:
        """Write the PNG (2x by default); returns the image."""
        self.refresh(everything=True)
        with hidden(self._crosshairs):
            return save_png(self.graphics, path, scale, self._theme.background)
