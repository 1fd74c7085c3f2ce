"""Inside the LSTM: row-by-row readout, attention, occlusion, and the gates and cell of every
layer and direction, for the digit on the pad or any test image, updated live.

The view composes the panels (one class each, in this package) and tells them what to show; no
panel knows the view. Computing and painting are apart. `configure(checkpoint)` sets the axes and
selectors for a model and `show_explanation(ex)` draws an `Explanation` computed anywhere (the
window runs `core.introspect.explain_input` on the inference worker's thread, see
`ui.explain_controller`); neither computes. The synchronous `set_model` / `set_input` / `refresh`
path, used by tests and tools, computes with the same `explain_input` and then paints with the same
two calls. Every plot item is created once; an update is a handful of `setImage` / `setOpts` calls.
"""

from __future__ import annotations

import logging
import time
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from lstm_desktop.core.drawing.inference import blank_value, inference_copy
from lstm_desktop.core.models.introspect import Explanation, explain_input
from lstm_desktop.core.models.networks import LSTMClassifier
from lstm_desktop.ui.inside.attention_panel import AttentionPanel
from lstm_desktop.ui.inside.digit_panel import DigitPanel
from lstm_desktop.ui.inside.gates_panel import GatesPanel
from lstm_desktop.ui.inside.help_panel import HelpPanel
from lstm_desktop.ui.inside.hover import describe_point
from lstm_desktop.ui.inside.occlusion_panel import OcclusionPanel
from lstm_desktop.ui.inside.readout_panel import ReadoutPanel
from lstm_desktop.core.data.words import DIGITS, words_for
from lstm_desktop.ui.inside.words import NO_INPUT, NO_MODEL, empty_summary, help_texts, prediction_summary, tooltip
from lstm_desktop.ui.theme import FollowsPalette, Theme, theme_for

log = logging.getLogger(__name__)

__all__ = ["InsideView"]

PLOTS_MIN_WIDTH, PLOTS_MIN_HEIGHT = 700, 480


def _line(name: str, accessible: str) -> QLabel:
    """One line of fixed height whose width never drives the layout: a new text must not
    re-layout (and so fully repaint) the plots below."""
    label = QLabel(" ")
    label.setObjectName(name)
    label.setAccessibleName(accessible)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return label


class InsideView(FollowsPalette, QWidget):
    """What the LSTM does with one image, panel by panel.

    Paint-only: configure(checkpoint or None), show_explanation(ex or None, label, note).
    Synchronous: set_model(checkpoint or None), set_input(image or None, label), refresh(). While
    the view is hidden (another tab), inputs are remembered and explained when it is shown again.
    Its panels: digit, attention, readout, occlusion (the row-aligned plots in `top`), gates, help.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("insideView")
        self._model: LSTMClassifier | None = None
        self._background = blank_value()
        self._model_label = ""
        self._image: np.ndarray | None = None
        self._label = ""
        self._dirty = False
        self._explanation: Explanation | None = None
        self._geometry: tuple | None = None  # (T, F, H, C, layers, directions, attention) configured
        self._words = DIGITS  # the model's dataset's words: the help speaks of its rows or steps
        self._helped: tuple | None = None  # (T, words) the help was written for
        self.last_update_seconds = 0.0  # explain + drawing of the last synchronous update
        self.parallel_explain: bool | None = None  # explain(parallel=...): its default
        self._theme: Theme = theme_for(self.palette())
        self.summary = _line("insideSummary", "Inside the LSTM: prediction summary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.hover = _line("insideHover", "Value under the mouse")
        self.hover.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._build_top()
        self.gates = GatesPanel(self._theme)
        self.help = HelpPanel()
        self._lay_out()
        self._row_panels = (self.digit, self.attention, self.readout, self.occlusion, self.gates)
        self._hover_plots = ((self.digit.plot, "digit"), (self.attention.plot, "attention"),
                             (self.readout.plot, "readout"), (self.occlusion.plot, "occlusion"),
                             *((p, n) for n, p in self.gates.plots.items()))
        for canvas in (self.top, self.gates.canvas):
            canvas.scene().sigMouseMoved.connect(partial(self._on_mouse_moved, canvas.scene()))
        self._set_rows(28, 28)
        self.apply_theme(self._theme)
        self._show_empty()

    def _build_top(self) -> None:
        """One canvas for the four row-aligned panels, so that their rows line up."""
        self.top = pg.GraphicsLayoutWidget()
        self.top.setObjectName("insideTopPlots")
        self.top.setAccessibleName("Digit, attention, row-by-row readout and occlusion")
        ci = self.top.ci
        self.digit = DigitPanel(ci, 0)
        self.attention = AttentionPanel(ci, 1, self._theme)
        self.readout = ReadoutPanel(ci, 2)  # its colour bar in column 3
        self.occlusion = OcclusionPanel(ci, 4, self._theme)
        for panel in (self.attention, self.readout, self.occlusion):
            panel.plot.setYLink(self.digit.plot)
        for col, stretch in ((0, 28), (1, 9), (2, 16), (3, 1), (4, 13)):
            ci.layout.setColumnStretchFactor(col, stretch)

    def _lay_out(self) -> None:
        """Summary; a row of controls; the plots (scrolling when narrow) beside the help."""
        controls = QHBoxLayout()
        for widget, gap in ((QLabel("Gates of:"), 0), (self.gates.layer_combo, 12), (QLabel("Units:"), 0),
                            (self.gates.order_combo, 12), (self.digit.tint_check, 12)):
            controls.addWidget(widget)
            if gap:
                controls.addSpacing(gap)
        controls.addWidget(self.hover, 1)
        controls.addWidget(self.help.button)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.setObjectName("insidePlotSplitter")
        plots.addWidget(self.top)
        plots.addWidget(self.gates.widget)
        plots.setStretchFactor(0, 5)
        plots.setStretchFactor(1, 6)
        # the plots never shrink below what shows every panel whole (digit, attention, readout, occlusion;
        # three gate heatmaps a row): narrower than that, beside the pad or in a small window, they scroll
        plots.setMinimumSize(PLOTS_MIN_WIDTH, PLOTS_MIN_HEIGHT)
        self.plots_scroll = QScrollArea()
        self.plots_scroll.setObjectName("insidePlotsScroll")
        self.plots_scroll.setWidget(plots)
        self.plots_scroll.setWidgetResizable(True)
        self.plots_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.setChildrenCollapsible(False)
        body.addWidget(self.plots_scroll)
        body.addWidget(self.help.scroll)
        body.setStretchFactor(0, 4)
        body.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(controls)
        layout.addWidget(body, 1)

    # ------------------------------------------------------------------ theme
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.top.setBackground(theme.background)
        for panel in self._row_panels:
            panel.apply_theme(theme)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self.help.fit(self.width())


    # ------------------------------------------------------------------ paint-only interface
    def configure(self, checkpoint) -> None:
        """Axes, selectors and titles for this model (a Checkpoint, a ModelSpec or None), without
        computing anything. A model of another shape clears the panels until show_explanation."""
        spec = getattr(checkpoint, "spec", checkpoint)
        if spec is None:
            return
        dataset = getattr(getattr(checkpoint, "config", None), "dataset", None) \
            or (getattr(checkpoint, "info", None) or {}).get("dataset")
        if dataset:
            self._words = words_for(str(dataset))
        self._write_help(spec.seq_len)
        self._configure_geometry((spec.seq_len, spec.input_size, spec.hidden, spec.num_classes,
                                  spec.layers, 2 if spec.bidirectional else 1, bool(spec.attention)))

    def show_explanation(self, ex: Explanation | None, label: str = "", note: str = "", model: str = "") -> None:
        """Draw an explanation computed elsewhere; None shows `note` as the empty view's message.
        label names the input ("your drawing", "test image #3"); note follows it in the summary;
        model names the model that explained it (the summary says which model it shows)."""
        if ex is None:
            self._explanation = None
            self._show_empty(note)
            return
        T, C = ex.readout.shape
        some = next(iter(ex.gates.values()))["hidden"]
        self._configure_geometry((T, ex.image.shape[1], some.shape[1], C, ex.layers, ex.directions,
                                  ex.attention is not None))
        self._explanation = ex
        for panel in self._row_panels:
            panel.draw(ex)
        self.summary.setText(prediction_summary(ex.predicted, float(ex.probabilities[ex.predicted]),
                                                ex.decision_row, T, label, note, model))

    # ------------------------------------------------------------------ synchronous interface
    def set_model(self, checkpoint, label: str = "") -> None:
        """Explain with this model (a core.checkpoint.Checkpoint, or None; label names it) from now on.

        The view keeps its own CPU copy of the weights in eval mode, so a model that is still
        training elsewhere is neither switched to eval nor read while it changes.
        """
        self._explanation = None
        if checkpoint is None:
            self._model = None
        else:
            try:
                self._model, self._background = inference_copy(checkpoint), blank_value(checkpoint)
                self._model_label = label
            except Exception as exc:  # a broken checkpoint must not take the window down
                log.exception("Inside view could not copy the model")
                self._model = None
                self._dirty = False
                self._show_empty(f"cannot explain this model ({exc}).")
                return
            self.configure(checkpoint)
        self._dirty = True
        self._refresh_if_visible()

    def set_input(self, image: np.ndarray | None, label: str = "") -> None:
        """Explain the model on this model-ready 28x28 image (None clears the view)."""
        self._image = None if image is None else np.array(image, dtype=np.float32, copy=True)
        self._label = label
        self._dirty = True
        self._refresh_if_visible()

    @property
    def explanation(self) -> Explanation | None:
        """The explanation currently drawn (None when the view is empty)."""
        return self._explanation

    def refresh(self) -> None:
        """Explain and draw now, visible or not."""
        self._dirty = False
        start = time.perf_counter()
        if self._model is None:
            self.show_explanation(None, note=NO_MODEL)
            return
        if self._image is None:
            self.show_explanation(None, note=NO_INPUT)
            return
        try:
            ex, note = explain_input(self._model, self._image, self._background, self.parallel_explain)
        except Exception as exc:
            log.exception("Inside view: explain failed")
            self.show_explanation(None, note=f"Could not explain this input: {exc}")
            return
        self.show_explanation(ex, self._label, note, self._model_label)
        self.last_update_seconds = time.perf_counter() - start

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def _refresh_if_visible(self) -> None:
        if self.isVisible():
            self.refresh()

    # ------------------------------------------------------------------ per model
    def _configure_geometry(self, geometry: tuple) -> None:
        if geometry == self._geometry:
            return
        self._geometry = geometry
        T, F, H, C, layers, directions, attention = geometry
        self._set_rows(T, F)
        self._write_help(T)
        self.readout.set_classes(C)
        self.gates.configure(H, layers, directions)
        self.attention.configure(attention)
        self.digit.configure(attention)

    def _write_help(self, T: int) -> None:
        """The help and the plots' tooltips in this model's words: its T rows (or steps), not MNIST's 28."""
        if self._helped == (T, self._words):
            return
        self._helped = (T, self._words)
        texts = help_texts(T, self._words)
        self.help.set_texts(texts)
        for plot, key in self._hover_plots[:4]:  # digit, attention, readout, occlusion
            plot.setToolTip(tooltip(texts[key]))
        thing = "Digit" if self._words.kind == "digit" else self._words.item.capitalize()
        self.digit.plot.setTitle(f"{thing} (what the model reads)", size="9pt")
        row = "row" if self._words.item == "image" else "step"  # a sequence's time steps are no rows
        self.readout.plot.setTitle(f"Readout after each {row}", size="9pt")
        self.occlusion.plot.setTitle(f"{row.capitalize()} blanked", size="9pt")
        self.readout.plot.setLabel("bottom", self._words.kind)  # digit, or class (XX, XY, ...)

    def _set_rows(self, T: int, F: int) -> None:
        for panel in self._row_panels:
            panel.set_rows(T, F)

    def _show_empty(self, message: str = "") -> None:
        for panel in self._row_panels:
            panel.clear()
        self.summary.setText(empty_summary(message))

    # ------------------------------------------------------------------ hover
    def describe_point(self, pos: QPointF, scene=None) -> str:
        """What is under scene position pos (of `scene`, or of any canvas): panel, row, column, value."""
        ex = self._explanation
        if ex is None:
            return ""
        return describe_point(ex, pos, self._hover_plots, self.gates.shown_states(), self.gates.unit_order, scene,
                              "row" if self._words.item == "image" else "step")

    def _on_mouse_moved(self, scene, pos: QPointF) -> None:
        self.hover.setText(self.describe_point(pos, scene) or " ")
