"""The plot items of the "Inside the LSTM" view, built once per view, and their theme.

Why a module of its own: building the eleven plots and four colour bars is long and has nothing
to do with updating them. `build_top` and `build_gates` put the items on the view under the names
the view (and its tests) use; `apply_panel_theme` re-colours them for a palette.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from lstm_desktop.ui.inside_help import HELP, tooltip
from lstm_desktop.ui.theme import Theme, style_plot

GATE_PANELS = (  # name in Explanation.gates, title, colour scale
    ("input", "input gate i", "gate"),
    ("forget", "forget gate f", "gate"),
    ("output", "output gate o", "gate"),
    ("candidate", "candidate g", "signed"),
    ("hidden", "hidden state h", "signed"),
    ("cell", "cell state c", "cell"),
)
GATE_POSITIONS = {"input": (0, 0), "forget": (0, 1), "output": (0, 2),
                  "candidate": (1, 0), "hidden": (1, 1), "cell": (1, 2)}
NICE_STEPS = (1, 1.5, 2, 3, 5, 7.5, 10)
ATTENTION_RGB = (255, 140, 0)


def diverging(theme: Theme) -> pg.ColorMap:
    """Blue-white-red on a light theme; blue-black-red on a dark one (a white middle glared)."""
    return pg.colormap.get("CET-D4" if theme.dark else "CET-D1A")


def row_ticks(T: int) -> list[list[tuple[float, str]]]:
    step = 7 if T >= 14 else max(1, T // 4)
    rows = sorted({1, T, *range(step, T + 1, step)})
    return [[(r, str(r)) for r in rows], [(r, "") for r in range(1, T + 1)]]


def nice_ceiling(v: float, floor: float = 1.0, steps: tuple[float, ...] = NICE_STEPS) -> float:
    """A round number >= max(v, floor) for a scale's end (steps x 10^k)."""
    if not math.isfinite(v) or v <= floor:
        return floor
    mag = 10 ** math.floor(math.log10(v))
    for m in steps:
        if v <= m * mag + 1e-9:
            return m * mag
    return 10 * mag


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


def _bar(values: tuple[float, float], cmap, label: str) -> pg.ColorBarItem:
    return pg.ColorBarItem(values=values, colorMap=cmap, interactive=False, width=12, label=label,
                           colorMapMenu=False)


def build_top(view) -> None:
    """Digit (+ attention tint), attention bars, readout heatmap, occlusion bars."""
    ci = view._top.ci
    view.digit_plot = new_plot(ci, "Digit (what the model reads)", "digit", 0, 0, left="row", bottom="column")
    view.digit_image = pg.ImageItem(axisOrder="row-major")
    view.digit_image.setLevels((-1.0, 1.0))
    view.attention_tint = pg.ImageItem(axisOrder="row-major")
    view.attention_tint.setZValue(5)
    # one image pixel is one unit on every axis, so placing an image is a translation:
    # pixel (row r, column c) is centred on (c, r), 1-based, rows downwards
    for img in (view.digit_image, view.attention_tint):
        img.setPos(0.5, 0.5)
        view.digit_plot.addItem(img)

    view.attention_plot = new_plot(ci, "Attention", "attention", 0, 1, bottom="weight")
    view.attention_bars = pg.BarGraphItem(x0=[], y=[], height=0.8, width=[],
                                          brush=QColor(*ATTENTION_RGB, 200), pen=None)
    view.attention_plot.addItem(view.attention_bars)
    view.attention_note = pg.TextItem("no attention\nlayer in\nthis model", anchor=(0.5, 0.5))
    view.attention_plot.addItem(view.attention_note)

    view.readout_plot = new_plot(ci, "Readout after each row", "readout", 0, 2, bottom="digit")
    view.readout_image = pg.ImageItem(axisOrder="row-major")
    view.readout_image.setPos(-0.5, 0.5)  # digit d centred on x = d
    view.readout_plot.addItem(view.readout_image)
    view.readout_plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)]])
    view.readout_plot.setXRange(-0.5, 9.5, padding=0)
    # white on the viridis heatmap in every theme: these marks sit on the image, not the page
    view.readout_top = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=1.2), brush=None, symbol="o")
    view.readout_top.setZValue(5)
    view.readout_plot.addItem(view.readout_top)
    view.decision_line = pg.InfiniteLine(angle=0, movable=False,
                                         pen=pg.mkPen("#e8e8e8", width=1.5, style=Qt.PenStyle.DashLine))
    view.decision_line.setZValue(6)
    view.readout_plot.addItem(view.decision_line)
    view.readout_bar = _bar((0, 1), pg.colormap.get("viridis"), "probability")
    view.readout_bar.setImageItem(view.readout_image)
    ci.addItem(view.readout_bar, row=0, col=3)

    view.occlusion_plot = new_plot(ci, "Occlusion: row blanked", "occlusion", 0, 4, bottom="Δ p(prediction)")
    view.occlusion_bars = pg.BarGraphItem(x0=[], y=[], height=0.8, width=[], pen=None, brush="#888")
    view.occlusion_plot.addItem(view.occlusion_bars)
    # a finite zero line (an InfiniteLine would dirty the whole canvas on a range change)
    view.occlusion_zero = pg.PlotCurveItem([0.0, 0.0], [0.5, 28.5])
    view.occlusion_plot.addItem(view.occlusion_zero)

    for plot in (view.attention_plot, view.readout_plot, view.occlusion_plot):
        plot.setYLink(view.digit_plot)
    lay = ci.layout
    for col, stretch in ((0, 28), (1, 9), (2, 16), (3, 1), (4, 13)):
        lay.setColumnStretchFactor(col, stretch)
    view.attention_plot.setPreferredWidth(90)
    view.occlusion_plot.setPreferredWidth(150)


def build_gates(view, theme: Theme) -> None:
    """Six heatmaps (rows x units) in one grid so their columns line up, and their colour bars."""
    ci = view._gates_widget.ci
    cmap = diverging(theme)
    view.gate_plots = {}
    view.gate_images = {}
    for name, title, _ in GATE_PANELS:
        r, c = GATE_POSITIONS[name]
        help_key = "gates" if name in ("input", "forget", "output") else "states"
        plot = new_plot(ci, title, help_key, r, c, left="row" if c == 0 else "", bottom="unit")
        # equal frames, so that the six heatmaps get equal widths
        plot.getAxis("left").setStyle(showValues=True)
        plot.getAxis("left").setWidth(44 if c == 0 else 28)
        plot.setPreferredWidth(300)
        plot.setMinimumWidth(140)
        img = pg.ImageItem(axisOrder="row-major")
        img.setPos(-0.5, 0.5)  # column j centred on x = j, row r on y = r
        plot.addItem(img)
        view.gate_plots[name] = plot
        view.gate_images[name] = img
    first = view.gate_plots["input"]
    for plot in view.gate_plots.values():
        if plot is not first:
            plot.setXLink(first)
            plot.setYLink(first)
        plot.setMouseEnabled(x=True, y=False)  # zoom into units with the wheel
    # the gates' bar beside row 1, the states' two (g and h share -1..1; c has its own) beside row 2
    view.gate_bar = _bar((0, 1), cmap, "gate (0 closed, 1 open)")
    view.gate_bar.setImageItem([view.gate_images[n] for n in ("input", "forget", "output")])
    ci.addItem(view.gate_bar, row=0, col=3)
    view.signed_bar = _bar((-1, 1), cmap, "candidate g, hidden h")
    view.signed_bar.setImageItem([view.gate_images["candidate"], view.gate_images["hidden"]])
    ci.addItem(view.signed_bar, row=1, col=3)
    view.cell_bar = _bar((-1, 1), cmap, "cell c")
    view.cell_bar.setImageItem(view.gate_images["cell"])
    ci.addItem(view.cell_bar, row=1, col=4)


def style_bar(bar: pg.ColorBarItem, theme: Theme) -> None:
    for name in ("left", "right", "top", "bottom"):
        axis = bar.getAxis(name)
        axis.setPen(theme.axis)
        axis.setTextPen(theme.axis)
        if axis.labelText:  # the bar's label (on the left axis of a vertical bar)
            axis.setLabel(axis.labelText, color=theme.axis)


def all_plots(view) -> list[pg.PlotItem]:
    return [view.digit_plot, view.attention_plot, view.readout_plot, view.occlusion_plot,
            *view.gate_plots.values()]


def apply_panel_theme(view, theme: Theme) -> None:
    """Backgrounds, axes, titles, notes, bar colours and the diverging colour map."""
    for canvas in (view._top, view._gates_widget):
        canvas.setBackground(theme.background)
    for plot in all_plots(view):
        style_plot(plot, theme)
    view.attention_note.setColor(theme.muted)
    view.occlusion_zero.setPen(pg.mkPen(theme.axis))
    view._supports = pg.mkBrush(theme.val)  # blanking the row lowers p: it supported it
    view._against = pg.mkBrush(theme.train)
    cmap = diverging(theme)
    for bar in (view.gate_bar, view.signed_bar, view.cell_bar):
        bar.setColorMap(cmap)
    for bar in (view.readout_bar, view.gate_bar, view.signed_bar, view.cell_bar):
        style_bar(bar, theme)
