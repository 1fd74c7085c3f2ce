"""A pyqtgraph line item for curves that only grow at the right end, such as a batch-loss curve.

Why not PlotDataItem: its setData re-lays-out and repaints the whole plot, ten times a second while
training. Every millisecond of that is taken from the training threads, which share the machine's
cores with the window. This item marks only the strip between the old and the new last point for
repaint, and paints only the segments inside the exposed area, decimated to about two points per
pixel (per-bin minimum and maximum, so spikes stay visible). A refresh then costs a fraction of a
millisecond, whatever the curve's length.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter

_PAD_PX = 3.0  # repaint margin around new segments, in pixels (covers a 2-px pen and rounding)
_DIRECT_POINTS = 400  # fewer points than this are drawn as they are: decimating costs more


def peak_decimate(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about `max_points` points that keep each bin's minimum and maximum, in x order."""
    n = len(x)
    if n <= max_points or max_points < 4 or not np.isfinite(y).all():
        return x, y
    k = int(np.ceil(n / (max_points // 2)))
    m = n // k
    if m == 0:
        return x, y
    yb = y[: m * k].reshape(m, k)
    xb = x[: m * k].reshape(m, k)
    lo, hi = np.nanargmin(yb, axis=1), np.nanargmax(yb, axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)  # keep each pair in x order
    rows = np.arange(m)
    xs = np.empty(2 * m)
    ys = np.empty(2 * m)
    xs[0::2], xs[1::2] = xb[rows, first], xb[rows, second]
    ys[0::2], ys[1::2] = yb[rows, first], yb[rows, second]
    if m * k < n:  # the tail that does not fill a bin is drawn as is
        xs = np.concatenate([xs, x[m * k:]])
        ys = np.concatenate([ys, y[m * k:]])
    return xs, ys


class AppendOnlyCurve(pg.GraphicsObject):
    """A polyline over (x, y) with x increasing; `extend` is cheap, `setData` redraws everything."""

    def __init__(self, pen, name: str = "") -> None:
        super().__init__()
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # paint() gets the exposed rect
        self.opts = {"pen": pg.mkPen(pen), "brush": None, "fillLevel": None, "fillBrush": None,
                     "symbol": None, "antialias": False, "name": name}
        self._x = np.empty(0)
        self._y_raw = np.empty(0)
        self._y = np.empty(0)
        self._log_y = False
        self._bounds: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 of finite data
        self._reserved = QRectF()  # boundingRect: grows in steps, so appends need no geometry change

    # ---- data ------------------------------------------------------------------------------------
    def name(self) -> str:
        return self.opts["name"]

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        """The data as displayed (log10 of y in log mode), like PlotDataItem.getData."""
        return self._x, self._y

    def setData(self, x: np.ndarray, y: np.ndarray) -> None:
        self._x = np.asarray(x, dtype=np.float64)
        self._y_raw = np.asarray(y, dtype=np.float64)
        self._y = self._display(self._y_raw)
        self._bounds = None
        self._grow_bounds(self._x, self._y)
        self._reserve(force=True)
        self.update()
        self.informViewBoundsChanged()

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Take the whole, longer data; only the points after the current last one are new."""
        old = len(self._x)
        x = np.asarray(x, dtype=np.float64)
        if old == 0 or len(x) < old or x[old - 1] != self._x[-1]:
            self.setData(x, y)
            return
        self._x = x
        self._y_raw = np.asarray(y, dtype=np.float64)
        tail = self._display(self._y_raw[old:])
        self._y = np.concatenate([self._y, tail])
        if len(x) == old:
            return
        self._grow_bounds(x[old:], tail)
        if self._reserve(force=False):
            self.update()
            self.informViewBoundsChanged()
            return
        seg_x = self._x[old - 1:]
        seg_y = self._y[old - 1:]
        finite = seg_y[np.isfinite(seg_y)]
        if not len(finite):
            return
        px, py = self._pixel_size()
        rect = QRectF(float(seg_x[0]) - _PAD_PX * px, float(finite.min()) - _PAD_PX * py,
                      float(seg_x[-1] - seg_x[0]) + 2 * _PAD_PX * px,
                      float(finite.max() - finite.min()) + 2 * _PAD_PX * py)
        self.update(rect)

    def setPen(self, pen) -> None:
        self.opts["pen"] = pg.mkPen(pen)
        self.update()

    def setLogMode(self, x_mode: bool, y_mode: bool) -> None:  # called by PlotItem.setLogMode
        if bool(y_mode) == self._log_y:
            return
        self._log_y = bool(y_mode)
        self.setData(self._x, self._y_raw)

    def _display(self, y: np.ndarray) -> np.ndarray:
        if not self._log_y:
            return y
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)

    # ---- geometry --------------------------------------------------------------------------------
    def _grow_bounds(self, x: np.ndarray, y: np.ndarray) -> None:
        """Widen the running data bounds by new points (O(new), not O(all))."""
        ok = np.isfinite(y)
        if not ok.any():
            return
        if not ok.all():
            x, y = x[ok], y[ok]
        x0, x1, y0, y1 = float(x[0]), float(x[-1]), float(y.min()), float(y.max())
        if self._bounds is not None:
            bx0, bx1, by0, by1 = self._bounds
            x0, x1, y0, y1 = min(x0, bx0), max(x1, bx1), min(y0, by0), max(y1, by1)
        self._bounds = (x0, x1, y0, y1)

    def _reserve(self, force: bool) -> bool:
        """Grow the bounding rect ahead of the data (x doubles, y gets 50% headroom) when it leaves it."""
        if self._bounds is None:
            changed = not self._reserved.isNull()
            if changed:
                self.prepareGeometryChange()
                self._reserved = QRectF()
            return changed
        x0, x1, y0, y1 = self._bounds
        if not force and self._reserved.contains(QRectF(x0, y0, max(x1 - x0, 1e-12), max(y1 - y0, 1e-12))):
            return False
        span_x, span_y = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        self.prepareGeometryChange()
        self._reserved = QRectF(x0, y0 - 0.5 * span_y, span_x * 2.0, span_y * 2.0)
        return True

    def boundingRect(self) -> QRectF:
        return QRectF(self._reserved)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        """Exact data extent for ViewBox auto-range (the bounding rect is deliberately larger)."""
        values = self._x if ax == 0 else self._y
        if orthoRange is not None and len(self._x):
            other = self._y if ax == 0 else self._x
            keep = (other >= orthoRange[0]) & (other <= orthoRange[1])
            values = values[keep]
        values = values[np.isfinite(values)]
        if not len(values):
            return (None, None)
        if frac < 1.0:
            return (float(np.percentile(values, 50 * (1 - frac))),
                    float(np.percentile(values, 50 * (1 + frac))))
        return (float(values.min()), float(values.max()))

    def pixelPadding(self) -> float:
        return 0.0

    def _pixel_size(self) -> tuple[float, float]:
        """One device pixel in data units (x, y); pyqtgraph's pixelWidth() costs far more."""
        t = self.sceneTransform()  # PlotWidget scenes are in device pixels
        sx, sy = abs(t.m11()), abs(t.m22())
        return (1.0 / sx if sx > 0 else 0.0), (1.0 / sy if sy > 0 else 0.0)

    # ---- painting --------------------------------------------------------------------------------
    def paint(self, p: QPainter, opt, widget=None) -> None:
        n = len(self._x)
        if n < 2:
            return
        exposed = opt.exposedRect if opt is not None else self.boundingRect()
        sx = abs(p.transform().m11())
        px = 1.0 / sx if sx > 0 else 0.0
        lo = int(np.searchsorted(self._x, exposed.left() - 2 * px, side="left")) - 1
        hi = int(np.searchsorted(self._x, exposed.right() + 2 * px, side="right")) + 1
        lo, hi = max(lo, 0), min(hi, n)
        if hi - lo < 2:
            return
        xs, ys = self._x[lo:hi], self._y[lo:hi]
        width_px = exposed.width() / px if px > 0 else len(xs)
        if len(xs) > max(_DIRECT_POINTS, 4 * width_px):
            xs, ys = peak_decimate(xs, ys, int(2 * width_px) + 4)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(self.opts["pen"])
        if np.isfinite(ys).all():
            poly = pg.functions.create_qpolygonf(len(xs))
            points = pg.functions.ndarray_from_qpolygonf(poly)
            points[:, 0], points[:, 1] = xs, ys
            p.drawPolyline(poly)
        else:
            p.drawPath(pg.arrayToQPath(xs, ys, connect="finite"))
