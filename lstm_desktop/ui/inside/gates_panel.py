"""The gates and states of one layer and direction: six heatmaps (rows x hidden units) whose
columns line up, their colour bars and legend, and the two selectors that choose what they show
(which layer and direction, in which order the units stand)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from lstm_desktop.core.models.introspect import DIRECTION_NAMES, Explanation
from lstm_desktop.ui.inside.plots import colour_bar, diverging, new_plot, nice_ceiling, pin_rows, style_bar
from lstm_desktop.ui.inside.words import HELP, legend_html, tooltip
from lstm_desktop.ui.theme import Theme, style_plot
from lstm_desktop.ui.unit_order import BY_CHANGE, BY_NUMBER, unit_order

GATE_PANELS = (  # name in Explanation.gates, title
    ("input", "input gate i"),
    ("forget", "forget gate f"),
    ("output", "output gate o"),
    ("candidate", "candidate g"),
    ("hidden", "hidden state h"),
    ("cell", "cell state c"),
)
GATE_POSITIONS = {"input": (0, 0), "forget": (0, 1), "output": (0, 2),
                  "candidate": (1, 0), "hidden": (1, 1), "cell": (1, 2)}
# which state each of the six heatmaps shows for the other cells (None: the cell has no such thing)
CELL_PANELS = {
    "gru": {"input": ("reset", "reset gate r"), "forget": ("update", "update gate z"),
            "output": (None, "(a GRU has no output gate)"), "candidate": ("candidate", "candidate n"),
            "hidden": ("hidden", "hidden state h"), "cell": (None, "(a GRU has no cell state)")},
    "rnn": {"input": (None, "(a plain RNN has no gates)"), "forget": (None, "—"), "output": (None, "—"),
            "candidate": (None, "—"), "hidden": ("hidden", "hidden state h = tanh(…)"),
            "cell": (None, "(no cell state)")},
}


def _combo(name: str, accessible: str, help_key: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    combo.setToolTip(tooltip(HELP[help_key]))
    return combo


class GatesPanel:
    """`widget` (the legend over the heatmaps) and the selectors `layer_combo` and `order_combo`,
    which the view places in its row of controls."""

    def __init__(self, theme: Theme) -> None:
        self._theme = theme
        self.layer_combo = _combo("insideLayerCombo", "Layer and direction of the gates shown", "selector")
        self.order_combo = _combo("insideUnitOrderCombo", "Order of the hidden units in the heatmaps", "order")
        self.order_combo.addItem("by row of largest change", BY_CHANGE)
        self.order_combo.addItem("by number", BY_NUMBER)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setObjectName("insideGatePlots")
        self.canvas.setAccessibleName("Gates and states heatmaps")
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self._build_heatmaps(theme)
        self.legend = QLabel("")
        self.legend.setObjectName("insideLegend")
        self.legend.setAccessibleName("What the heatmap colours mean")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setToolTip(tooltip(HELP["gates"] + "<br><br>" + HELP["order"]))
        self.widget = QWidget()
        box = QVBoxLayout(self.widget)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.legend)
        box.addWidget(self.canvas, 1)
        self.unit_order = np.arange(0)  # the column order of the heatmaps (unit per column)
        self._order_shown = BY_NUMBER  # the order the axis labels name
        self._cell_shown = "lstm"  # the cell the titles name
        self._cell_max = 1.0
        self._explanation: Explanation | None = None
        self.layer_combo.currentIndexChanged.connect(self._on_selection_changed)
        self.order_combo.currentIndexChanged.connect(self._on_selection_changed)

    def _build_heatmaps(self, theme: Theme) -> None:
        """Six heatmaps in one grid so their columns line up, and their colour bars."""
        ci = self.canvas.ci
        for name, title in GATE_PANELS:
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
            self.plots[name] = plot
            self.images[name] = img
        first = self.plots["input"]
        for plot in self.plots.values():
            if plot is not first:
                plot.setXLink(first)
                plot.setYLink(first)
            plot.setMouseEnabled(x=True, y=False)  # zoom into units with the wheel
        # the gates' bar beside row 1, the states' two (g and h share -1..1; c has its own) beside row 2
        cmap = diverging(theme)
        self.gate_bar = colour_bar((0, 1), cmap, "gate (0 closed, 1 open)")
        self.gate_bar.setImageItem([self.images[n] for n in ("input", "forget", "output")])
        ci.addItem(self.gate_bar, row=0, col=3)
        self.signed_bar = colour_bar((-1, 1), cmap, "candidate g, hidden h")
        self.signed_bar.setImageItem([self.images["candidate"], self.images["hidden"]])
        ci.addItem(self.signed_bar, row=1, col=3)
        self.cell_bar = colour_bar((-1, 1), cmap, "cell c")
        self.cell_bar.setImageItem(self.images["cell"])
        ci.addItem(self.cell_bar, row=1, col=4)

    # ------------------------------------------------------------------ per model
    def set_rows(self, T: int, F: int) -> None:
        for plot in self.plots.values():
            pin_rows(plot, T)

    def configure(self, H: int, layers: int, directions: int) -> None:
        """H units a heatmap; one selector entry per layer and direction (the current one kept)."""
        self.plots["input"].setXRange(-0.5, H - 0.5, padding=0)
        self.plots["input"].getViewBox().setLimits(xMin=-0.5, xMax=H - 0.5)
        combo = self.layer_combo
        combo.blockSignals(True)
        current = combo.currentData()
        combo.clear()
        for layer in range(layers):
            for d in range(directions):
                side = f" · {DIRECTION_NAMES[d]}" if directions == 2 else ""
                combo.addItem(f"layer {layer + 1}{side}", (layer, d))
        index = combo.findData(current) if current is not None else -1
        combo.setCurrentIndex(index if index >= 0 else 0)
        combo.setEnabled(combo.count() > 1)
        combo.blockSignals(False)

    # ------------------------------------------------------------------ drawing
    def current_states(self) -> dict[str, np.ndarray] | None:
        """The gates and states of the selected layer and direction (None when empty)."""
        ex = self._explanation
        if ex is None:
            return None
        key = tuple(self.layer_combo.currentData() or (0, 0))
        return ex.gates.get(key) or ex.gates[(0, 0)]

    def shown_states(self) -> dict[str, tuple[str, np.ndarray]]:
        """What each heatmap shows now, by heatmap: the state's name and its values (rows x units).
        A GRU's "input" heatmap shows its reset gate; a heatmap the cell has nothing for is left out."""
        states = self.current_states()
        if states is None:
            return {}
        sources = CELL_PANELS.get(getattr(self._explanation, "cell", "lstm"), {})
        shown = {}
        for name in self.images:
            source = sources.get(name, (name, None))[0]
            if source is not None and source in states:
                shown[name] = (source, states[source])
        return shown

    def draw(self, ex: Explanation) -> None:
        self._explanation = ex
        self._draw()

    def clear(self) -> None:
        self._explanation = None
        for img in self.images.values():
            img.clear()

    def _draw(self) -> None:
        states = self.current_states()
        if states is None:
            return
        by = self.order_combo.currentData() or BY_CHANGE
        self.unit_order = unit_order(states["hidden"], by)
        cell = getattr(self._explanation, "cell", "lstm")
        sources = CELL_PANELS.get(cell, {})
        for name, img in self.images.items():
            source, _title = sources.get(name, (name, None))
            if source is not None and source in states:
                img.setImage(states[source][:, self.unit_order], autoLevels=False)
            else:
                img.clear()
        if cell != self._cell_shown:  # titles re-render: only when the cell changes
            self._cell_shown = cell
            for name, plot in self.plots.items():
                plot.setTitle(sources.get(name, (name, None))[1] or dict(GATE_PANELS)[name],
                              **self._theme.title_style)
        if by != self._order_shown:  # a new axis label re-renders the axis: only on a change
            self._order_shown = by
            for plot in self.plots.values():
                plot.setLabel("bottom", "units (sorted)" if by == BY_CHANGE else "unit", color=self._theme.axis)
        # the scale follows the cell's large values but not one outlier unit (the top 1% of
        # values are shown in the end colours)
        if "cell" not in states:
            return
        c_max = nice_ceiling(float(np.percentile(np.abs(states["cell"]), 99)))
        if c_max != self._cell_max:  # the bar repaints only when its range changes
            self._cell_max = c_max
            self.cell_bar.setLevels((-c_max, c_max))

    # ------------------------------------------------------------------ theme
    def apply_theme(self, theme: Theme) -> None:
        """Background, axes, titles, the diverging colour map of the bars, and the legend's swatches."""
        self._theme = theme
        self.canvas.setBackground(theme.background)
        for plot in self.plots.values():
            style_plot(plot, theme)
        cmap = diverging(theme)
        for bar in (self.gate_bar, self.signed_bar, self.cell_bar):
            bar.setColorMap(cmap)
            style_bar(bar, theme)
        self._update_legend()

    def _update_legend(self) -> None:
        cmap = diverging(self._theme)
        low, mid, high = (cmap.map(v, mode="qcolor").name() for v in (0.0, 0.5, 1.0))
        self.legend.setText(legend_html(low, mid, high, self.order_combo.currentData() == BY_CHANGE))

    def _on_selection_changed(self, _index: int) -> None:
        self._update_legend()
        self._draw()
