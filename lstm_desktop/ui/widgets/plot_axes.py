"""Axis and view helpers for the pyqtgraph plots: cached static parts, log-axis ticks that never
pile up, end-only ticks for narrow axes, and a PlotWidget that says when the mouse leaves it.
"""

from __future__ import annotations

import math
from typing import Callable

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFontMetrics

# label priority of the mantissas of a log axis: decades first, then 2 and 5, then 3, 4, 6, 8 only
# when fewer than two labels would show otherwise
_LOG_LEVELS = ((1, 0), (2, 1), (5, 1), (3, 2), (4, 2), (6, 2), (8, 2), (7, 3), (9, 3))


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


class _NoReactivation(QObject):
    """Swallows a plot view's viewport Show and Hide that come from the app (a tab switched), not
    from the system: on each such Show, QGraphicsView re-activates its scene, which repaints every
    item once more after the view's first paint (two plots on a tab: each painted twice)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        return event.type() in (QEvent.Type.Show, QEvent.Type.Hide) and not event.spontaneous()


_NO_REACTIVATION = _NoReactivation()


def paint_once_when_shown(view: pg.GraphicsView) -> None:
    """Let `view` paint once, not twice, when its tab is shown (the scene stays active while hidden)."""
    view.viewport().installEventFilter(_NO_REACTIVATION)


def settle(plot: pg.PlotItem) -> None:
    """Fit the view to new data now, not in the next paint: pyqtgraph moves the view's items while
    painting, which dirties what was just painted, so a redraw of new data painted two or three
    times (20 runs' curves: most of the time it took)."""
    plot.vb.prepareForPaint()


def format_tick(value: float) -> str:
    """A short tick text: 0.2, 0.05, 3, 1e-05."""
    if value == 0:
        return "0"
    text = f"{value:.3g}"
    return text.replace("e-0", "e-").replace("e+0", "e")


def log_ticks(lo: float, hi: float, pixels: float, gap_px: float) -> tuple[list[float], list[float]]:
    """(labelled, unlabelled) tick positions, in log10 units, for a log axis from lo to hi.

    Labels go to decades, then to 2x and 5x, then (only if fewer than two labels fit otherwise) to
    3x, 4x, 6x and 8x, each at least gap_px from the others, so "1 0.9 0.8 ..." never piles up.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or pixels <= 0:
        return [], []
    span = hi - lo
    if span > 12:  # many decades: every k-th decade only
        step = math.ceil(span / 6)
        first = math.ceil(lo / step) * step
        return [float(v) for v in range(first, math.floor(hi) + 1, step)], []
    per_decade = pixels / span
    candidates: list[tuple[int, float]] = []
    for decade in range(math.floor(lo), math.ceil(hi) + 1):
        for mantissa, priority in _LOG_LEVELS:
            x = decade + math.log10(mantissa)
            if lo - 1e-9 <= x <= hi + 1e-9:
                candidates.append((priority, x))
    candidates.sort()
    chosen: list[float] = []
    for priority, x in candidates:
        if priority >= 2 and len(chosen) >= 2:
            break
        if priority == 3:
            break
        if all(abs(x - c) * per_decade >= gap_px for c in chosen):
            chosen.append(x)
    rest = sorted(x for _, x in candidates if x not in chosen)
    return sorted(chosen), rest


class ReadableAxis(pg.AxisItem):
    """An AxisItem whose log mode labels 1-2-5 values with room between them. whole: the axis
    counts (epochs), so over two or more of them no tick falls between whole values (a 6-epoch run
    showed 0.5, 1.5...)."""

    def __init__(self, orientation: str, whole: bool = False, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self._labelled: set[float] = set()
        self.whole = whole

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph names
        levels = super().tickSpacing(minVal, maxVal, size)
        if not self.whole or self.logMode or maxVal - minVal < 2:  # within an epoch or two: fractions say how far
            return levels
        return [(spacing, offset) for spacing, offset in levels if spacing >= 1] or [(1.0, 0.0)]

    def _label_gap(self) -> float:
        font = self.style.get("tickFont")
        fm = QFontMetrics(font) if font is not None else QFontMetrics(pg.QtGui.QFont())
        if self.orientation in ("left", "right"):
            return fm.height() * 1.5
        return fm.horizontalAdvance("0.0005") + 10

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802,N803 - pyqtgraph names
        labelled, rest = log_ticks(float(minVal), float(maxVal), float(size), self._label_gap())
        if not labelled:
            return super().logTickValues(minVal, maxVal, size, stdTicks)
        self._labelled = {round(v, 9) for v in labelled}
        levels = [(None, labelled)]
        if rest:
            levels.append((None, rest))
        return levels

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph name
        return [format_tick(10 ** v * scale) if round(v, 9) in self._labelled else "" for v in values]


def end_ticks(axis: pg.AxisItem, lo: float, hi: float, zero: bool = False) -> None:
    """Label only the ends (and 0) of a narrow axis, e.g. an attention axis of 90 px, where
    automatic ticks ran together ("0.20.40.60.8")."""
    values = [lo, hi] + ([0.0] if zero and lo < 0 < hi else [])
    major = [(v, format_tick(v)) for v in sorted(set(values))]
    minor = [((lo + hi) / 2, "")] if not zero else []
    axis.setTicks([major, minor])


class HoverPlotWidget(pg.PlotWidget):
    """A PlotWidget with readable axes that calls `on_leave` when the mouse leaves it, so that
    hover decorations (a crosshair) never outlive the pointer."""

    def __init__(self, parent=None, on_leave: Callable[[], None] | None = None, whole_x: bool = False,
                 **kwargs) -> None:
        axes = kwargs.pop("axisItems", None) or {"left": ReadableAxis("left"), "bottom": ReadableAxis("bottom", whole_x)}
        super().__init__(parent, axisItems=axes, **kwargs)
        self._on_leave = on_leave

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().leaveEvent(event)
        if self._on_leave is not None:
            self._on_leave()
