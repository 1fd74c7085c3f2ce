"""Parallel coordinates of the selected runs: one vertical axis per setting that differs (rates on
log axes, choices as categories) and per result, one line per run coloured by a result. Dragging
along an axis brushes a range; the runs inside every brush are emitted (`runsBrushed`) and the
others fade. The axes come from core/run_compare.parallel_axes.

Lines are drawn as one pyqtgraph curve per colour band (NaN-separated), not one item per run, so
hundreds of runs draw in a few milliseconds.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QComboBox, QGraphicsRectItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from lstm_desktop.core.runs.run_compare import RESULT_BY_KEY, Axis, parallel_axes, result_values
from lstm_desktop.core.runs.evented_runs import Run
from lstm_desktop.ui.theme import Theme, theme_for
from lstm_desktop.ui.widgets.themed_plot import ThemedPlotMixin
from lstm_desktop.ui.widgets.common import heading, muted, named
from lstm_desktop.ui.widgets.plot_axes import paint_once_when_shown, settle

BANDS = 12  # colour bands of the colouring result
COLOUR_BY = ("accuracy", "best_val", "seconds")
PICK_DISTANCE = 0.3  # how far from an axis (in axis spacings) a drag still brushes it
SHORT = {"dataset": "Data", "val_size": "Val. size", "augment_shapes": "Shapes", "pen_digits": "Pen",
         "seq_len": "Seq. len", "hidden": "Hidden", "bidirectional": "Bidir.", "attention": "Attention",
         "batch_size": "Batch", "lr": "LR", "lr_schedule": "Schedule", "weight_decay": "Wt decay", "grad_clip": "Clip",
         "accuracy": "Test acc.", "best_val": "Best val.", "best_epoch": "Best ep.", "seconds": "Time (s)"}
PREPARED_LABELS = 120  # labels made while the window idles: 15 axes' names and ticks
TITLE_ROWS = (1.06, 1.12, 1.18)  # axis names take turns on these heights, so neighbours never overlap


class _BrushBox(pg.ViewBox):
    """A ViewBox that turns vertical drags near an axis into brushes, and clicks into clearing."""

    def __init__(self, owner: "ParallelCoordinatesView") -> None:
        super().__init__(enableMenu=False)
        self.owner = owner
        self.setMouseEnabled(False, False)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph name
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        start = self.mapSceneToView(ev.buttonDownScenePos())
        now = self.mapSceneToView(ev.scenePos())
        self.owner.drag_brush(start.x(), start.y(), now.y(), ev.isFinish())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph name
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.owner.clear_brush(self.mapSceneToView(ev.scenePos()).x())
        else:
            ev.ignore()


class ParallelCoordinatesView(ThemedPlotMixin, QWidget):
    runsBrushed = Signal(list)  # the ids of the runs inside every brush ([] when the brushes are cleared)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("parallelCoordinates")
        self._theme: Theme = theme_for(self.palette())
        self.runs: list[Run] = []
        self.axes: list[Axis] = []
        self.brushes: dict[int, tuple[float, float]] = {}  # axis index -> (low, high) in [0, 1]
        self._best = None
        self._stale = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = heading("Settings and results", 0)
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(QLabel("Colour by"))
        self.colour_combo = named(QComboBox(), "parallelColourCombo", "Colour the runs by",
                                  "The result that colours each run's line (dark: low, bright: high)")
        for key in COLOUR_BY:
            self.colour_combo.addItem(RESULT_BY_KEY[key].label, key)
        self.colour_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        top.addWidget(self.colour_combo)
        layout.addLayout(top)
        self.hint = muted("Select runs to see their settings against their results. Drag along an axis to "
                          "select the runs in that range; click an axis to clear its range.")
        layout.addWidget(self.hint)
        self.box = _BrushBox(self)
        self.plot_widget = named(pg.PlotWidget(viewBox=self.box), "parallelPlot", "Parallel coordinates of the "
                                 "selected runs")
        self.plot_widget.setMinimumHeight(220)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        paint_once_when_shown(self.plot_widget)
        layout.addWidget(self.plot_widget, 1)
        self.legend = muted("")
        layout.addWidget(self.legend)
        self._bands: list[pg.PlotCurveItem] = []
        self._faded = pg.PlotCurveItem()
        self._axis_lines = pg.PlotCurveItem(connect="pairs")
        self._texts: list[pg.TextItem] = []
        self._text_state: dict[int, tuple] = {}  # label index -> what it shows (text, colour, place, font)
        self._brush_items: dict[int, QGraphicsRectItem] = {}
        for item in (self._faded, self._axis_lines):
            self.plot.addItem(item)
        self.apply_theme(self._theme)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._stale:
            self.redraw()

    # ---- data ---------------------------------------------------------------------------------
    def set_runs(self, runs: list[Run], best=None) -> None:
        """Show these runs (brushes are cleared); drawn now if visible, else when shown."""
        self.runs = list(runs)
        self._best = best
        self.brushes.clear()
        self._stale = True
        if self.isVisible():
            self.redraw()

    def brushed_ids(self) -> list[int]:
        inside = self._inside()
        return [r.id for r, keep in zip(self.runs, inside) if keep] if self.brushes else []

    def _inside(self) -> np.ndarray:
        keep = np.ones(len(self.runs), dtype=bool)
        for i, (lo, hi) in self.brushes.items():
            if i < len(self.axes):
                pos = np.asarray(self.axes[i].positions, dtype=float)
                keep &= (pos >= lo) & (pos <= hi)
        return keep

    def _matrix(self) -> np.ndarray:
        """(runs, axes) positions in [0, 1], NaN where a run has no value."""
        if not self.axes:
            return np.empty((len(self.runs), 0))
        return np.column_stack([np.asarray(a.positions, dtype=float) for a in self.axes])

    def redraw(self) -> None:
        self._stale = False
        kwargs = {"best": self._best} if self._best is not None else {}
        self.axes = parallel_axes(self.runs, **kwargs) if len(self.runs) > 1 else []
        self.hint.setVisible(not self.axes)
        self._draw_axes()
        self._draw_lines()
        settle(self.plot)

    def prepare_labels(self, count: int = 40) -> bool:
        """Make `count` more (hidden) labels ahead of need, up to PREPARED_LABELS; False when there
        are that many. The first view of 15 axes made ~100 of them: tens of milliseconds at once."""
        if len(self._texts) >= PREPARED_LABELS:
            return False
        start = len(self._texts)
        self._text(min(PREPARED_LABELS, start + count) - 1)
        for item in self._texts[start:]:
            item.setVisible(False)
        return True

    def _text(self, k: int) -> pg.TextItem:
        """The k-th label, reused between redraws (making TextItems is the slow part of a redraw)."""
        while len(self._texts) <= k:
            item = pg.TextItem("")
            item.setZValue(10)  # labels over the lines
            self.plot.addItem(item)
            self._texts.append(item)
        return self._texts[k]

    def _draw_axes(self) -> None:
        theme = self._theme
        n = len(self.axes)
        xs = np.repeat(np.arange(n, dtype=float), 2)
        ys = np.tile([0.0, 1.0], n)
        self._axis_lines.setData(xs, ys, connect="pairs")
        self._axis_lines.setPen(pg.mkPen(theme.axis, width=1.5))
        k = 0
        rows = TITLE_ROWS[:1] if n <= 6 else TITLE_ROWS[:2] if n <= 10 else TITLE_ROWS
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() - 1.5))
        for i, axis in enumerate(self.axes):
            name = SHORT.get(axis.key, axis.label) + (" (log)" if axis.log else "")
            labels = [(name, theme.text, (0.5, 1.0), (i, rows[i % len(rows)]), self.font())]
            labels += [(text, theme.muted, (0.0, 0.5), (i + 0.03, pos), small) for pos, text in axis.ticks]
            for text, colour, anchor, (x, y), font in labels:
                item = self._text(k)
                state = (text, colour, anchor, x, y, font.toString())
                if self._text_state.get(k) != state:  # a label already showing this is left alone
                    self._text_state[k] = state
                    item.setText(text, color=colour)
                    item.setFont(font)
                    item.setAnchor(anchor)
                    item.setPos(x, y)
                item.setVisible(True)
                k += 1
        for item in self._texts[k:]:
            item.setVisible(False)
        self.box.setRange(xRange=(-0.3, max(n - 0.15, 0.7)), yRange=(-0.05, rows[-1] + 0.1), padding=0)

    def _colour_values(self) -> np.ndarray:
        key = self.colour_combo.currentData() or "accuracy"
        kwargs = {"best": self._best} if self._best is not None else {}
        values = result_values(self.runs, key, **kwargs)
        return np.array([math.nan if v is None else float(v) for v in values], dtype=float)

    def _band(self, k: int) -> pg.PlotCurveItem:
        """The k-th colour band's curve, reused between redraws (adding items to the plot is slow)."""
        while len(self._bands) <= k:
            curve = pg.PlotCurveItem(connect="finite")
            self.plot.addItem(curve)
            self._bands.append(curve)
        return self._bands[k]

    def _draw_lines(self) -> None:
        matrix = self._matrix()
        n_runs, n_axes = matrix.shape
        used = 0
        if n_runs == 0 or n_axes == 0:
            for band in self._bands:
                band.setData([], [])
            self._faded.setData([], [])
            self._update_brush_items()
            self.legend.setText("")
            return
        colours = self._colour_values()
        keep = self._inside()
        finite = np.isfinite(colours)
        lo, hi = (float(colours[finite].min()), float(colours[finite].max())) if finite.any() else (0.0, 1.0)
        band_of = np.full(n_runs, -1)
        if finite.any():
            scaled = (colours[finite] - lo) / (hi - lo) if hi > lo else np.full(finite.sum(), 1.0)
            band_of[finite] = np.minimum((scaled * BANDS).astype(int), BANDS - 1)
        top = 1.0 if self._theme.dark else 0.85  # viridis' last yellows do not read on white
        lut = pg.colormap.get("viridis").getLookupTable(0.0, top, BANDS)
        xs_one = np.append(np.arange(n_axes, dtype=float), np.nan)

        def polylines(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            ys = np.column_stack([matrix[rows], np.full(len(rows), np.nan)]).ravel()
            return np.tile(xs_one, len(rows)), ys

        faded_rows = np.flatnonzero(~keep)
        if len(faded_rows):
            self._faded.setData(*polylines(faded_rows), connect="finite")
            self._faded.setPen(pg.mkPen(QColor(self._theme.muted), width=1))
            self._faded.setOpacity(0.25)
        else:
            self._faded.setData([], [])
        groups = [(-1, QColor(self._theme.muted))] + [(b, QColor(*lut[b][:3])) for b in range(BANDS)]
        for band, colour in groups:
            rows = np.flatnonzero(keep & (band_of == band))
            if not len(rows):
                continue
            curve = self._band(used)
            curve.setData(*polylines(rows), connect="finite", pen=pg.mkPen(colour, width=2))
            curve.setVisible(True)
            used += 1
        for curve in self._bands[used:]:
            if curve.isVisible():
                curve.setData([], [])
                curve.setVisible(False)
        label = RESULT_BY_KEY[self.colour_combo.currentData() or "accuracy"]
        shown = (lambda v: f"{v * 100:.2f}%") if label.percent else (lambda v: f"{v:.4g}")
        self.legend.setText(f"{n_runs} runs · colour: {label.label}, {shown(lo)} (dark) to {shown(hi)} (bright)"
                            + (f" · {int(keep.sum())} inside the brushed ranges" if self.brushes else "")
                            if finite.any() else f"{n_runs} runs · no {label.label.lower()} to colour by")
        self._update_brush_items()

    # ---- brushing -----------------------------------------------------------------------------
    def axis_near(self, x: float) -> int | None:
        i = int(round(x))
        return i if 0 <= i < len(self.axes) and abs(x - i) <= PICK_DISTANCE else None

    def drag_brush(self, x: float, y0: float, y1: float, finished: bool = True) -> None:
        """Brush axis near x from y0 to y1 (view coordinates); emits runsBrushed when finished."""
        i = self.axis_near(x)
        if i is None:
            return
        lo, hi = sorted((max(0.0, min(1.0, y0)), max(0.0, min(1.0, y1))))
        self.brushes[i] = (lo - 1e-9, hi + 1e-9)
        self._draw_lines()
        if finished:
            self.runsBrushed.emit(self.brushed_ids())

    def clear_brush(self, x: float | None = None) -> None:
        """Clear the brush of the axis near x (every brush when x is None or far from an axis)."""
        i = self.axis_near(x) if x is not None else None
        if i is not None and i in self.brushes:
            del self.brushes[i]
        elif i is None:
            self.brushes.clear()
        else:
            return
        self._draw_lines()
        self.runsBrushed.emit(self.brushed_ids())

    def _update_brush_items(self) -> None:
        for i in list(self._brush_items):
            if i not in self.brushes:
                self.plot.removeItem(self._brush_items.pop(i))
        colour = QColor(self._theme.highlight)
        for i, (lo, hi) in self.brushes.items():
            item = self._brush_items.get(i)
            if item is None:
                item = QGraphicsRectItem()
                fill = QColor(colour)
                fill.setAlpha(60)
                item.setBrush(fill)
                item.setPen(QPen(colour, 0))
                self.plot.addItem(item)
                self._brush_items[i] = item
            item.setRect(QRectF(i - 0.08, lo, 0.16, hi - lo))
