"""The building blocks every panel of "Inside the LSTM" draws with: a fixed plot with rows running
downwards, a colour bar, row ticks, round axis ends and a range that changes only when it must.

Why a module of its own: the panels share these choices (a row is a time step on every panel, one
image pixel is one unit on every axis), so each panel builds its plots the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from lstm_desktop.ui.inside.words import HELP, tooltip
from lstm_desktop.ui.theme import Theme
from lstm_desktop.ui.widgets.plot_axes import end_ticks

NICE_STEPS = (1, 1.5, 2, 3, 5, 7.5, 10)
ATTENTION_RGB = (255, 140, 0)  # the attention bars and the digit's attention tint


def diverging(theme: Theme) -> pg.ColorMap:
    """Blue-white-red on a light theme; blue-black-red on a dark one (a white middle glared)."""
    return pg.colormap.get("CET-D4" if theme.dark else "CET-D1A")


def row_ticks(T: int) -> list[list[tuple[float, str]]]:
    step = 7 if T >= 14 else max(1, T // 4)
    rows = sorted({1, T, *range(step, T + 1, step)})
    return [[(r, str(r)) for r in rows], [(r, "") for r in range(1, T + 1)]]


def row_positions(T: int) -> np.ndarray:
    """The y of rows 1..T (1-based, rows downwards)."""
    return np.arange(1, T + 1, dtype=float)


def pin_rows(plot: pg.PlotItem, T: int) -> None:
    """Rows 1..T on the left axis, and a y range that nothing can change."""
    plot.getAxis("left").setTicks(row_ticks(T))
    # pinned: linked views re-align by pixels when the layout settles, which shrank the
    # rows' range (rows 1 and T lost their labels)
    plot.getViewBox().setLimits(yMin=0.5, yMax=T + 0.5, minYRange=T, maxYRange=T)
    plot.setYRange(0.5, T + 0.5, padding=0)


def nice_ceiling(v: float, floor: float = 1.0, steps: tuple[float, ...] = NICE_STEPS) -> float:
    """A round number >= max(v, floor) for a scale's end (steps x 10^k)."""
    if not math.isfinite(v) or v <= floor:
        return floor
    mag = 10 ** math.floor(math.log10(v))
    for m in steps:
        if v <= m * mag + 1e-9:
            return m * mag
    return 10 * mag


def set_x_range(plot: pg.PlotItem, lo: float, hi: float) -> None:
    """Change the range (and its end-only ticks) only when it differs: a new range redraws the
    axis. Narrow axes label only their ends (and 0): automatic ticks ran together."""
    (cur_lo, cur_hi), _ = plot.getViewBox().viewRange()
    if abs(cur_lo - lo) > 1e-9 or abs(cur_hi - hi) > 1e-9:
        plot.setXRange(lo, hi, padding=0)
        end_ticks(plot.getAxis("bottom"), lo, hi, zero=lo < 0)


def new_plot(layout, title: str, help_key: str, row: int, col: int, *, left: str = "",
             bottom: str = "") -> pg.PlotItem:
    """A fixed (not zoomable) plot with rows downwards, its help as a wrapped tooltip."""
    plot = layout.addPlot(row=row, col=col)
    plot.setTitle(title, size="9pt")
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.getViewBox().invertY(True)
    plot.getViewBox().setDefaultPadding(0.0)
    plot.disableAutoRange()  # the ranges are set per model: items added later must not move them
    plot.setToolTip(tooltip(HELP[help_key]))
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.enableAutoSIPrefix(False)
        # ticks outside the data area: repainting an image then leaves the axes alone; labels at
        # the ends (row 1 and 28, the ends of a narrow axis) may overhang the axis by 14 px
        ax.setStyle(tickLength=4, hideOverlappingLabels=14)
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    if not left:
        plot.getAxis("left").setStyle(showValues=False)
        plot.getAxis("left").setWidth(6)
    return plot


def colour_bar(values: tuple[float, float], cmap, label: str) -> pg.ColorBarItem:
    return pg.ColorBarItem(values=values, colorMap=cmap, interactive=False, width=12, label=label,
                           colorMapMenu=False)


def style_bar(bar: pg.ColorBarItem, theme: Theme) -> None:
    for name in ("left", "right", "top", "bottom"):
        axis = bar.getAxis(name)
        axis.setPen(theme.axis)
        axis.setTextPen(theme.axis)
        if axis.labelText:  # the bar's label (on the left axis of a vertical bar)
            axis.setLabel(axis.labelText, color=theme.axis)
