"""Inside the LSTM: row-by-row readout, attention, occlusion, and the gates and cell of every
layer and direction, for the digit on the pad or any test image, updated live.

All numbers come from `core.introspect.explain` in one call; this widget only draws them. Every
plot item is created once (per model); an update is a handful of `setImage`/`setOpts` calls.
"""

from __future__ import annotations

import logging
import math
import time
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QScrollArea,
                               QSizePolicy, QSplitter, QToolButton, QVBoxLayout, QWidget)

from lstm_desktop.core.introspect import DIRECTION_NAMES, Explanation, explain, fit_to_model
from lstm_desktop.core.models import LSTMClassifier

log = logging.getLogger(__name__)

GATE_PANELS = (  # name in Explanation.gates, title, colour scale
    ("input", "input gate i", "gate"),
    ("forget", "forget gate f", "gate"),
    ("output", "output gate o", "gate"),
    ("candidate", "candidate g", "signed"),
    ("hidden", "hidden state h", "signed"),
    ("cell", "cell state c", "cell"),
)

HELP = {
    "digit": "<b>Digit.</b> What the model reads: 28 rows, one per time step, from the top down "
             "(bright = ink). With attention, the orange tint shows the rows it pooled most.",
    "attention": "<b>Attention.</b> How much each row's output counts in the model's summary "
                 "(the weights add up to 1). Only models with an attention layer have one.",
    "readout": "<b>Row-by-row readout.</b> Row t shows the class probabilities the model would "
               "give if the image ended after row t: the whole model (every layer, both "
               "directions, attention over the rows seen so far) is run on rows 1..t only. "
               "The dot marks the top class; the dashed line is where it stops changing. "
               "For a one-way LSTM this is simply the classifier applied to h after row t; "
               "for a bidirectional one the backward direction then starts at row t, so rows "
               "below t never leak in.",
    "occlusion": "<b>Occlusion.</b> Each bar: how the predicted class's probability changes "
                 "when that single row is blanked (set to background). Red bars: the row "
                 "supported the prediction; blue bars: it argued against it.",
    "gates": "<b>Gates</b> (0 = closed, 1 = open), one row per time step, one column per "
             "hidden unit. Input gate i: how much new content is written; forget gate f: how "
             "much of the old cell is kept; output gate o: how much of the cell is shown as h.",
    "states": "<b>States.</b> Candidate g: the new content proposed at this row (-1..1). "
              "Cell c = f*c + i*g: the long-term memory, not bounded (its colour scale follows "
              "its large values; the largest 1% show in the end colours). Hidden h = o*tanh(c): "
              "what this layer passes on and the classifier reads. Blue is negative, red positive.",
    "selector": "<b>Layer / direction.</b> Stacked models have one set of gates per layer; "
                "bidirectional ones also read the rows bottom-up (backward), whose row t shows "
                "the values when that direction read row t.",
}

TITLE_STYLE = {"size": "9pt", "color": "#222"}


def _row_ticks(T: int) -> list[list[tuple[float, str]]]:
    step = 7 if T >= 14 else max(1, T // 4)
    rows = sorted({1, T, *range(step, T + 1, step)})
    return [[(r, str(r)) for r in rows], [(r, "") for r in range(1, T + 1)]]


NICE_STEPS = (1, 1.5, 2, 3, 5, 7.5, 10)


def _nice_ceiling(v: float, floor: float = 1.0, steps: tuple[float, ...] = NICE_STEPS) -> float:
    """A round number >= max(v, floor) for a scale's end (steps x 10^k)."""
    if not math.isfinite(v) or v <= floor:
        return floor
    mag = 10 ** math.floor(math.log10(v))
    for m in steps:
        if v <= m * mag + 1e-9:
            return m * mag
    return 10 * mag


class InsideView(QWidget):
    """What the LSTM does with one image, panel by panel.

    Interface the main window relies on: set_model(checkpoint or None), set_input(image or None,
    label). While the view is hidden (another tab), inputs are remembered and explained when it
    is shown again, so drawing costs nothing here then.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("insideView")
        self._model: LSTMClassifier | None = None
        self._background = -1.0
        self._image: np.ndarray | None = None
        self._label = ""
        self._note = ""
        self._dirty = False
        self._explanation: Explanation | None = None
        self._attention_drawn = False
        self._cell_max = 1.0
        self._T = 28
        self._F = 28
        self.last_update_seconds = 0.0  # explain + drawing of the last update
        self.parallel_explain: bool | None = None  # explain(parallel=...): its default

        # ---- header and controls
        self._summary = QLabel()
        self._summary.setObjectName("insideSummary")
        self._summary.setTextFormat(Qt.TextFormat.RichText)
        # one line of fixed height whose width never drives the layout: a new text must not
        # re-layout (and so fully repaint) the plots below
        self._summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._summary.setAccessibleName("Inside the LSTM: prediction summary")
        self._hover = QLabel(" ")
        self._hover.setObjectName("insideHover")
        self._hover.setAccessibleName("Value under the mouse")
        self._hover.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._hover.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self._layer_combo = QComboBox()
        self._layer_combo.setObjectName("insideLayerCombo")
        self._layer_combo.setAccessibleName("Layer and direction of the gates shown")
        self._layer_combo.setToolTip(_plain(HELP["selector"]))
        self._layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self._tint_check = QCheckBox("Tint the digit by attention")
        self._tint_check.setObjectName("insideTintCheck")
        self._tint_check.setAccessibleName("Tint the digit by attention")
        self._tint_check.setChecked(True)
        self._tint_check.toggled.connect(self._on_tint_toggled)
        self._help_button = QToolButton()
        self._help_button.setObjectName("insideHelpButton")
        self._help_button.setAccessibleName("Show or hide the explanation of the panels")
        self._help_button.setText("? Help")
        self._help_button.setCheckable(True)
        self._help_button.setChecked(True)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Gates of:"))
        controls.addWidget(self._layer_combo)
        controls.addSpacing(12)
        controls.addWidget(self._tint_check)
        controls.addSpacing(12)
        controls.addWidget(self._hover, 1)
        controls.addWidget(self._help_button)

        # ---- plots
        self._top = pg.GraphicsLayoutWidget()
        self._top.setObjectName("insideTopPlots")
        self._top.setAccessibleName("Digit, attention, row-by-row readout and occlusion")
        self._top.setBackground("w")
        self._gates_widget = pg.GraphicsLayoutWidget()
        self._gates_widget.setObjectName("insideGatePlots")
        self._gates_widget.setAccessibleName("Gates and states heatmaps")
        self._gates_widget.setBackground("w")
        self._build_top()
        self._build_gates()

        plots = QSplitter(Qt.Orientation.Vertical)
        plots.setObjectName("insidePlotSplitter")
        plots.addWidget(self._top)
        plots.addWidget(self._gates_widget)
        plots.setStretchFactor(0, 5)
        plots.setStretchFactor(1, 6)

        self._help = QLabel("<br><br>".join(HELP[k] for k in ("digit", "readout", "attention",
                                                              "occlusion", "selector", "gates",
                                                              "states")))
        self._help.setObjectName("insideHelp")
        self._help.setAccessibleName("Explanation of the panels")
        self._help.setTextFormat(Qt.TextFormat.RichText)
        self._help.setWordWrap(True)
        self._help.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._help.setMargin(8)
        help_scroll = QScrollArea()
        help_scroll.setObjectName("insideHelpScroll")
        help_scroll.setWidget(self._help)
        help_scroll.setWidgetResizable(True)
        help_scroll.setMinimumWidth(220)
        self._help_button.toggled.connect(help_scroll.setVisible)

        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(plots)
        body.addWidget(help_scroll)
        body.setStretchFactor(0, 4)
        body.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self._summary)
        layout.addLayout(controls)
        layout.addWidget(body, 1)

        for w in (self._top, self._gates_widget):
            w.scene().sigMouseMoved.connect(partial(self._on_mouse_moved, w.scene()))
        self._configure_rows(28, 28)
        self._show_empty()

    # ------------------------------------------------------------------ public interface
    def set_model(self, checkpoint) -> None:
        """Explain this model (a core.checkpoint.Checkpoint, or None).

        The view keeps its own CPU copy of the weights in eval mode, so a model that is still
        training elsewhere is neither switched to eval nor read while it changes.
        """
        self._explanation = None
        if checkpoint is None:
            self._model = None
        else:
            try:
                spec = checkpoint.spec
                model = LSTMClassifier(spec)
                state = {k: v.detach().to("cpu", copy=True)
                         for k, v in checkpoint.model.state_dict().items()}
                model.load_state_dict(state)
                model.eval()
                self._model = model
                mean = float(getattr(checkpoint, "mean", 0.5))
                std = float(getattr(checkpoint, "std", 0.5)) or 0.5
                self._background = (0.0 - mean) / std
            except Exception as exc:  # a broken checkpoint must not take the window down
                log.exception("Inside view could not copy the model")
                self._model = None
                self._dirty = False
                self._show_empty(f"cannot explain this model ({exc}).")
                return
            self._configure_rows(spec.seq_len, spec.input_size)
            self._configure_model(spec)
        self._dirty = True
        self._refresh_if_visible()

    def set_input(self, image: np.ndarray | None, label: str = "") -> None:
        """Explain the model on this model-ready 28x28 image (None clears the view)."""
        self._image = None if image is None else np.array(image, dtype=np.float32, copy=True)
        self._label = label
        self._dirty = True
        self._refresh_if_visible()

    # ------------------------------------------------------------------ for tests and tools
    @property
    def explanation(self) -> Explanation | None:
        """The explanation currently drawn (None when the view is empty)."""
        return self._explanation

    def refresh(self) -> None:
        """Explain and draw now, visible or not."""
        self._dirty = False
        self._update()

    # ------------------------------------------------------------------ building
    def _new_plot(self, layout, title: str, help_key: str, row: int, col: int, *, left: str = "",
                  bottom: str = "") -> pg.PlotItem:
        plot = layout.addPlot(row=row, col=col)
        plot.setTitle(title, **TITLE_STYLE)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.getViewBox().invertY(True)
        plot.getViewBox().setDefaultPadding(0.0)
        plot.setToolTip(_plain(HELP[help_key]))
        for name in ("left", "bottom"):
            ax = plot.getAxis(name)
            ax.setPen(pg.mkPen("#555"))
            ax.setTextPen(pg.mkPen("#333"))
            ax.enableAutoSIPrefix(False)
            # ticks outside the data area: repainting an image then leaves the axes alone
            ax.setStyle(tickLength=4)
        plot.setLabel("left", left)
        plot.setLabel("bottom", bottom)
        if not left:
            plot.getAxis("left").setStyle(showValues=False)
            plot.getAxis("left").setWidth(6)
        return plot

    def _build_top(self) -> None:
        ci = self._top.ci
        self.digit_plot = self._new_plot(ci, "Digit (what the model reads)", "digit", 0, 0,
                                         left="row", bottom="column")
        self.digit_image = pg.ImageItem(axisOrder="row-major")
        self.digit_image.setLevels((-1.0, 1.0))
        self.attention_tint = pg.ImageItem(axisOrder="row-major")
        self.attention_tint.setZValue(5)
        # one image pixel is one unit on every axis, so placing an image is a translation:
        # pixel (row r, column c) is centred on (c, r), 1-based, rows downwards
        for img in (self.digit_image, self.attention_tint):
            img.setPos(0.5, 0.5)
            self.digit_plot.addItem(img)

        self.attention_plot = self._new_plot(ci, "Attention", "attention", 0, 1, bottom="weight")
        self.attention_bars = pg.BarGraphItem(x0=[], y=[], height=0.8, width=[],
                                              brush=QColor(255, 140, 0, 200), pen=None)
        self.attention_plot.addItem(self.attention_bars)
        self.attention_note = pg.TextItem("no attention\nlayer in\nthis model", color="#888",
                                          anchor=(0.5, 0.5))
        self.attention_plot.addItem(self.attention_note)

        self.readout_plot = self._new_plot(ci, "Readout after each row", "readout", 0, 2,
                                           bottom="digit")
        self.readout_image = pg.ImageItem(axisOrder="row-major")
        self.readout_image.setPos(-0.5, 0.5)  # digit d centred on x = d
        self.readout_plot.addItem(self.readout_image)
        self.readout_plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)]])
        self.readout_plot.setXRange(-0.5, 9.5, padding=0)
        self.readout_top = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=1.2), brush=None,
                                              symbol="o")
        self.readout_top.setZValue(5)
        self.readout_plot.addItem(self.readout_top)
        self.decision_line = pg.InfiniteLine(angle=0, movable=False,
                                             pen=pg.mkPen("#e8e8e8", width=1.5,
                                                          style=Qt.PenStyle.DashLine))
        self.decision_line.setZValue(6)
        self.readout_plot.addItem(self.decision_line)
        self.readout_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"),
                                           interactive=False, width=12, label="probability",
                                           colorMapMenu=False)
        self.readout_bar.setImageItem(self.readout_image)
        _style_bar(self.readout_bar)
        ci.addItem(self.readout_bar, row=0, col=3)

        self.occlusion_plot = self._new_plot(ci, "Occlusion: row blanked",
                                             "occlusion", 0, 4, bottom="Δ p(prediction)")
        self._supports = pg.mkBrush("#d62728")  # blanking the row lowers p: it supported it
        self._against = pg.mkBrush("#1f77b4")
        self.occlusion_bars = pg.BarGraphItem(x0=[], y=[], height=0.8, width=[], pen=None,
                                              brush="#888")
        self.occlusion_plot.addItem(self.occlusion_bars)
        # a finite zero line (an InfiniteLine would dirty the whole canvas on a range change)
        self.occlusion_zero = pg.PlotCurveItem([0.0, 0.0], [0.5, 28.5], pen=pg.mkPen("#444"))
        self.occlusion_plot.addItem(self.occlusion_zero)

        for plot in (self.attention_plot, self.readout_plot, self.occlusion_plot):
            plot.setYLink(self.digit_plot)
        lay = ci.layout
        for col, stretch in ((0, 28), (1, 9), (2, 16), (3, 1), (4, 13)):
            lay.setColumnStretchFactor(col, stretch)
        self.attention_plot.setPreferredWidth(90)
        self.occlusion_plot.setPreferredWidth(150)

    def _build_gates(self) -> None:
        ci = self._gates_widget.ci
        diverging = pg.colormap.get("CET-D1A")
        self.gate_plots: dict[str, pg.PlotItem] = {}
        self.gate_images: dict[str, pg.ImageItem] = {}
        # one grid, so that the columns line up: the colour bars sit at the right, the gates'
        # beside row 1, the states' two (g and h share -1..1; c has its own range) beside row 2
        positions = {"input": (0, 0), "forget": (0, 1), "output": (0, 2),
                     "candidate": (1, 0), "hidden": (1, 1), "cell": (1, 2)}
        for name, title, _ in GATE_PANELS:
            r, c = positions[name]
            help_key = "gates" if name in ("input", "forget", "output") else "states"
            plot = self._new_plot(ci, title, help_key, r, c, left="row" if c == 0 else "",
                                  bottom="hidden unit")
            # equal frames, so that the six heatmaps get equal widths
            plot.getAxis("left").setStyle(showValues=True)
            plot.getAxis("left").setWidth(44 if c == 0 else 28)
            plot.setPreferredWidth(300)
            plot.setMinimumWidth(140)
            img = pg.ImageItem(axisOrder="row-major")
            img.setPos(-0.5, 0.5)  # unit j centred on x = j, row r on y = r
            plot.addItem(img)
            self.gate_plots[name] = plot
            self.gate_images[name] = img
        first = self.gate_plots["input"]
        for name, plot in self.gate_plots.items():
            if plot is not first:
                plot.setXLink(first)
                plot.setYLink(first)
            plot.setMouseEnabled(x=True, y=False)  # zoom into units with the wheel
        self.gate_bar = pg.ColorBarItem(values=(0, 1), colorMap=diverging, interactive=False,
                                        width=12, label="gate (0 closed, 1 open)",
                                        colorMapMenu=False)
        self.gate_bar.setImageItem([self.gate_images[n] for n in ("input", "forget", "output")])
        ci.addItem(self.gate_bar, row=0, col=3)
        self.signed_bar = pg.ColorBarItem(values=(-1, 1), colorMap=diverging, interactive=False,
                                          width=12, label="candidate g, hidden h",
                                          colorMapMenu=False)
        self.signed_bar.setImageItem([self.gate_images["candidate"], self.gate_images["hidden"]])
        ci.addItem(self.signed_bar, row=1, col=3)
        self.cell_bar = pg.ColorBarItem(values=(-1, 1), colorMap=diverging, interactive=False,
                                        width=12, label="cell c", colorMapMenu=False)
        self.cell_bar.setImageItem(self.gate_images["cell"])
        ci.addItem(self.cell_bar, row=1, col=4)
        for bar in (self.gate_bar, self.signed_bar, self.cell_bar):
            _style_bar(bar)

    # ------------------------------------------------------------------ per model
    def _configure_rows(self, T: int, F: int) -> None:
        self._T, self._F = T, F
        ticks = _row_ticks(T)
        y = (0.5, T + 0.5)
        for plot in (self.digit_plot, self.attention_plot, self.readout_plot,
                     self.occlusion_plot, *self.gate_plots.values()):
            plot.getAxis("left").setTicks(ticks)
            plot.setYRange(*y, padding=0)
        self.digit_plot.setXRange(0.5, F + 0.5, padding=0)
        self.attention_note.setPos(0.5, T / 2 + 0.5)
        self.occlusion_zero.setData([0.0, 0.0], [0.5, T + 0.5])
        self._rows = np.arange(1, T + 1, dtype=float)

    def _configure_model(self, spec) -> None:
        H, C = spec.hidden, spec.num_classes
        self.readout_plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(C)]])
        self.readout_plot.setXRange(-0.5, C - 0.5, padding=0)
        self.gate_plots["input"].setXRange(-0.5, H - 0.5, padding=0)
        self.gate_plots["input"].getViewBox().setLimits(xMin=-0.5, xMax=H - 0.5)
        self._layer_combo.blockSignals(True)
        current = self._layer_combo.currentData()
        self._layer_combo.clear()
        directions = 2 if spec.bidirectional else 1
        for layer in range(spec.layers):
            for d in range(directions):
                side = f" · {DIRECTION_NAMES[d]}" if directions == 2 else ""
                text = f"layer {layer + 1}{side}"
                self._layer_combo.addItem(text, (layer, d))
        index = self._layer_combo.findData(current) if current is not None else -1
        self._layer_combo.setCurrentIndex(index if index >= 0 else 0)
        self._layer_combo.setEnabled(self._layer_combo.count() > 1)
        self._layer_combo.blockSignals(False)
        has_attention = bool(spec.attention)
        self.attention_note.setVisible(not has_attention)
        self.attention_plot.setEnabled(has_attention)
        self._tint_check.setEnabled(has_attention)
        self.attention_plot.getAxis("bottom").setStyle(showValues=has_attention)
        title = "Attention" if has_attention else "Attention (none)"
        self.attention_plot.setTitle(title, **TITLE_STYLE)

    # ------------------------------------------------------------------ updating
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def _refresh_if_visible(self) -> None:
        if self.isVisible():
            self.refresh()

    def _update(self) -> None:
        start = time.perf_counter()
        if self._model is None:
            self._explanation = None
            self._show_empty("No model to look into yet: train one, or open a saved model.")
            return
        if self._image is None:
            self._explanation = None
            self._show_empty("Draw a digit on the pad, or pick a test image in the confusion "
                             "matrix, to see what the LSTM does with it.")
            return
        image = np.nan_to_num(np.squeeze(self._image), nan=self._background)
        self._note = ""
        try:
            if image.ndim == 2 and image.shape != (self._T, self._F):
                self._note = (f" (resampled from {image.shape[0]}x{image.shape[1]} to "
                              f"{self._T}x{self._F} for this model)")
                image = fit_to_model(image, self._model)
            ex = explain(self._model, image, background=self._background,
                         parallel=self.parallel_explain)
        except Exception as exc:
            log.exception("Inside view: explain failed")
            self._explanation = None
            self._show_empty(f"Could not explain this input: {exc}")
            return
        self._explanation = ex
        self._draw(ex)
        self.last_update_seconds = time.perf_counter() - start

    def _clear_attention(self) -> None:
        self.attention_bars.setOpts(x0=[], y=[], width=[], height=0.8)
        self.attention_tint.clear()
        self._set_x_range(self.attention_plot, 0.0, 1.0)
        self._attention_drawn = False

    def _show_empty(self, message: str = "") -> None:
        for img in (self.digit_image, self.readout_image, *self.gate_images.values()):
            img.clear()
        self._clear_attention()
        self.occlusion_bars.setOpts(x0=[], y=[], width=[], height=0.8)
        self.readout_top.setData([], [])
        self.decision_line.hide()
        self._summary.setText(f"<b>Inside the LSTM</b> — {message}" if message else
                              "<b>Inside the LSTM</b>")

    def _draw(self, ex: Explanation) -> None:
        T = len(ex.readout)
        rows = self._rows
        # digit and attention
        self.digit_image.setImage(ex.image, autoLevels=False, levels=(-1.0, 1.0))
        if ex.attention is not None:
            w = ex.attention
            self.attention_bars.setOpts(x0=np.zeros(T), y=rows, width=w, height=0.8)
            self._set_x_range(self.attention_plot, 0.0,
                              _nice_ceiling(float(w.max()) * 1.05, 0.05, (1, 2, 5, 10)))
            self._draw_tint()
            self._attention_drawn = True
        elif self._attention_drawn:  # clear once, not on every update: empty items are costly
            self._clear_attention()
        # readout
        self.readout_image.setImage(ex.readout, autoLevels=False)
        self.readout_top.setData(ex.readout.argmax(axis=1).astype(float), rows)
        if ex.decision_row < T:
            self.decision_line.setPos(ex.decision_row + 0.5)
            self.decision_line.show()
        else:
            self.decision_line.hide()
        # occlusion
        d = ex.occlusion
        brushes = [self._against if v > 0 else self._supports for v in d]
        self.occlusion_bars.setOpts(x0=np.minimum(d, 0.0), y=rows, width=np.abs(d), height=0.8,
                                    brushes=brushes)
        # a round, symmetric range that changes only when the bars outgrow it (or shrink a lot)
        span = _nice_ceiling(float(np.abs(d).max()) * 1.05, 0.01, (1, 2, 5, 10))
        self._set_x_range(self.occlusion_plot, -span, span)
        self._draw_gates()
        # summary line
        p = float(ex.probabilities[ex.predicted])
        decided = (f"settles on it at row {ex.decision_row + 1} of {T}" if ex.decision_row < T
                   else "the readout never settles")
        source = f" — {self._label}" if self._label else ""
        self._summary.setText(f"<b>Prediction: {ex.predicted}</b> ({p:.0%}); the row-by-row "
                              f"readout {decided}{source}{self._note}")

    @staticmethod
    def _set_x_range(plot: pg.PlotItem, lo: float, hi: float) -> None:
        """Change the range only when it differs: a new range redraws the axis."""
        (cur_lo, cur_hi), _ = plot.getViewBox().viewRange()
        if abs(cur_lo - lo) > 1e-9 or abs(cur_hi - hi) > 1e-9:
            plot.setXRange(lo, hi, padding=0)

    def _draw_tint(self) -> None:
        ex = self._explanation
        if ex is None or ex.attention is None or not self._tint_check.isChecked():
            self.attention_tint.clear()
            return
        w = ex.attention / max(float(ex.attention.max()), 1e-12)
        rgba = np.empty((len(w), ex.image.shape[1], 4), dtype=np.uint8)
        rgba[..., 0], rgba[..., 1], rgba[..., 2] = 255, 140, 0
        rgba[..., 3] = (w * 140).astype(np.uint8)[:, None]
        self.attention_tint.setImage(rgba, autoLevels=False)

    def _draw_gates(self) -> None:
        ex = self._explanation
        if ex is None:
            return
        key = self._layer_combo.currentData() or (0, 0)
        states = ex.gates.get(tuple(key)) or ex.gates[(0, 0)]
        for name, img in self.gate_images.items():
            img.setImage(states[name], autoLevels=False)
        # the scale follows the cell's large values but not one outlier unit (the top 1% of
        # values are shown in the end colours)
        c_max = _nice_ceiling(float(np.percentile(np.abs(states["cell"]), 99)))
        if c_max != self._cell_max:  # the bar repaints only when its range changes
            self._cell_max = c_max
            self.cell_bar.setLevels((-c_max, c_max))

    # ------------------------------------------------------------------ slots
    def _on_layer_changed(self, _index: int) -> None:
        self._draw_gates()

    def _on_tint_toggled(self, _checked: bool) -> None:
        self._draw_tint()

    def _on_mouse_moved(self, scene, pos: QPointF) -> None:
        ex = self._explanation
        text = " "
        if ex is not None:
            text = self._describe_point(ex, pos, scene) or " "
        self._hover.setText(text)

    def _describe_point(self, ex: Explanation, pos: QPointF, scene=None) -> str:
        """What is under scene position pos (of `scene`, or of the scene of the plot found)."""
        T = len(ex.readout)
        for plot, kind in ((self.digit_plot, "digit"), (self.attention_plot, "attention"),
                           (self.readout_plot, "readout"), (self.occlusion_plot, "occlusion"),
                           *((p, n) for n, p in self.gate_plots.items())):
            vb = plot.getViewBox()
            if (vb.scene() is None or (scene is not None and vb.scene() is not scene)
                    or not vb.sceneBoundingRect().contains(pos)):
                continue
            pt = vb.mapSceneToView(pos)
            row = int(round(pt.y()))
            if not 1 <= row <= T:
                return ""
            if kind == "digit":
                col = int(round(pt.x()))
                if 1 <= col <= ex.image.shape[1]:
                    return f"row {row}, column {col}: pixel {ex.image[row - 1, col - 1]:+.2f}"
                return ""
            if kind == "attention":
                return "" if ex.attention is None else \
                    f"row {row}: attention weight {ex.attention[row - 1]:.3f}"
            if kind == "readout":
                digit = int(round(pt.x()))
                if 0 <= digit < ex.readout.shape[1]:
                    return f"after row {row}: p({digit}) = {ex.readout[row - 1, digit]:.3f}"
                return ""
            if kind == "occlusion":
                return (f"row {row} blanked: p({ex.predicted}) changes by "
                        f"{ex.occlusion[row - 1]:+.3f}")
            unit = int(round(pt.x()))
            key = tuple(self._layer_combo.currentData() or (0, 0))
            states = ex.gates.get(key)
            if states is not None and 0 <= unit < states[kind].shape[1]:
                return f"row {row}, unit {unit}: {kind} = {states[kind][row - 1, unit]:+.3f}"
            return ""
        return ""


def _style_bar(bar: pg.ColorBarItem) -> None:
    for name in ("left", "right", "top", "bottom"):
        axis = bar.getAxis(name)
        axis.setPen(pg.mkPen("#555"))
        axis.setTextPen(pg.mkPen("#333"))
        if axis.labelText:  # the bar's label (on the left axis of a vertical bar)
            axis.setLabel(axis.labelText, color="#333")


def _plain(html: str) -> str:
    return html.replace("<b>", "").replace("</b>", "")
