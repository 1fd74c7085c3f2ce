"""Inside the LSTM: row-by-row readout, attention, occlusion, and the gates and cell of every
layer and direction, for the digit on the pad or any test image, updated live.

Computing and painting are apart. `configure(checkpoint)` sets the axes and selectors for a model
and `show_explanation(ex)` draws an `Explanation` computed anywhere (the window may run
`core.introspect.explain_input` on a worker thread, see `ui.explain_controller`); neither computes.
The synchronous `set_model` / `set_input` / `refresh` path, used by tests and tools, computes with
the same `explain_input` and then paints with the same two calls. Every plot item is created once (see
`ui.inside_panels`); an update is a handful of `setImage` / `setOpts` calls.
"""

from __future__ import annotations

import html
import logging
import time

import numpy as np
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from lstm_desktop.core.drawing.inference import blank_value, inference_copy
from lstm_desktop.core.models.introspect import DIRECTION_NAMES, Explanation, explain_input
from lstm_desktop.core.models.networks import LSTMClassifier
from lstm_desktop.ui import inside_panels as panels
from lstm_desktop.ui.inside_help import legend_html
from lstm_desktop.ui.inside_hover import describe_point
from lstm_desktop.ui.inside_layout import build_body, build_controls, fit_help
from lstm_desktop.ui.theme import Theme, theme_for
from lstm_desktop.ui.unit_order import BY_CHANGE, BY_NUMBER, unit_order
from lstm_desktop.ui.widgets.plot_axes import end_ticks

log = logging.getLogger(__name__)

__all__ = ["InsideView"]


class InsideView(QWidget):
    """What the LSTM does with one image, panel by panel.

    Paint-only: configure(checkpoint or None), show_explanation(ex or None, label, note).
    Synchronous: set_model(checkpoint or None), set_input(image or None, label), refresh(). While
    the view is hidden (another tab), inputs are remembered and explained when it is shown again.
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
        self._attention_drawn = False
        self._cell_max = 1.0
        self._geometry: tuple | None = None  # (T, F, H, C, layers, directions, attention) configured
        self._T, self._F = 28, 28
        self.unit_order = np.arange(0)  # the column order of the gate heatmaps (unit per column)
        self._order_shown = BY_NUMBER  # the order the axis labels name
        self.last_update_seconds = 0.0  # explain + drawing of the last synchronous update
        self.parallel_explain: bool | None = None  # explain(parallel=...): its default
        self._theme: Theme = theme_for(self.palette())
        build_controls(self)
        build_body(self)
        self._configure_rows(28, 28)
        end_ticks(self.attention_plot.getAxis("bottom"), 0.0, 1.0)
        end_ticks(self.occlusion_plot.getAxis("bottom"), -0.01, 0.01, zero=True)
        self.apply_theme(self._theme)
        self._show_empty()

    # ------------------------------------------------------------------ theme
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        panels.apply_panel_theme(self, theme)
        self._update_legend()
        if self._explanation is not None:
            self._draw_occlusion(self._explanation)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        fit_help(self)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            theme = theme_for(self.palette())
            if theme != self._theme:
                self.apply_theme(theme)

    def _update_legend(self) -> None:
        cmap = panels.diverging(self._theme)
        low, mid, high = (cmap.map(v, mode="qcolor").name() for v in (0.0, 0.5, 1.0))
        self._legend.setText(legend_html(low, mid, high, self._order_combo.currentData() == BY_CHANGE))

    # ------------------------------------------------------------------ paint-only interface
    def configure(self, checkpoint) -> None:
        """Axes, selectors and titles for this model (a Checkpoint, a ModelSpec or None), without
        computing anything. A model of another shape clears the panels until show_explanation."""
        spec = getattr(checkpoint, "spec", checkpoint)
        if spec is None:
            return
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
        self._draw(ex, label, note, model)

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
            self.show_explanation(None, note="No model to look into yet: train one, or open a saved model.")
            return
        if self._image is None:
            self.show_explanation(None, note="Draw a digit on the pad, or pick a test image in the "
                                             "confusion matrix, to see what the LSTM does with it.")
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
        self._configure_rows(T, F)
        self.readout_plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(C)]])
        self.readout_plot.setXRange(-0.5, C - 0.5, padding=0)
        self.gate_plots["input"].setXRange(-0.5, H - 0.5, padding=0)
        self.gate_plots["input"].getViewBox().setLimits(xMin=-0.5, xMax=H - 0.5)
        combo = self._layer_combo
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
        self.attention_note.setVisible(not attention)
        self.attention_plot.setEnabled(attention)
        self._tint_check.setEnabled(attention)
        self.attention_plot.getAxis("bottom").setStyle(showValues=attention)
        self.attention_plot.setTitle("Attention" if attention else "Attention (none)",
                                     **self._theme.title_style)

    def _configure_rows(self, T: int, F: int) -> None:
        self._T, self._F = T, F
        ticks = panels.row_ticks(T)
        for plot in panels.all_plots(self):
            plot.getAxis("left").setTicks(ticks)
            # pinned: linked views re-align by pixels when the layout settles, which shrank the
            # rows' range (rows 1 and T lost their labels)
            plot.getViewBox().setLimits(yMin=0.5, yMax=T + 0.5, minYRange=T, maxYRange=T)
            plot.setYRange(0.5, T + 0.5, padding=0)
        self.digit_plot.setXRange(0.5, F + 0.5, padding=0)
        self.attention_note.setPos(0.5, T / 2 + 0.5)
        self.occlusion_zero.setData([0.0, 0.0], [0.5, T + 0.5])
        self._rows = np.arange(1, T + 1, dtype=float)

    # ------------------------------------------------------------------ drawing
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
        self._summary.setText(f"<b>Inside the LSTM</b> — {message}" if message else "<b>Inside the LSTM</b>")

    def _draw(self, ex: Explanation, label: str, note: str, model: str = "") -> None:
        T = len(ex.readout)
        rows = self._rows
        self.digit_image.setImage(ex.image, autoLevels=False, levels=(-1.0, 1.0))
        if ex.attention is not None:
            w = ex.attention
            self.attention_bars.setOpts(x0=np.zeros(T), y=rows, width=w, height=0.8)
            self._set_x_range(self.attention_plot, 0.0,
                              panels.nice_ceiling(float(w.max()) * 1.05, 0.05, (1, 2, 5, 10)))
            self._draw_tint()
            self._attention_drawn = True
        elif self._attention_drawn:  # clear once, not on every update: empty items are costly
            self._clear_attention()
        self.readout_image.setImage(ex.readout, autoLevels=False)
        self.readout_top.setData(ex.readout.argmax(axis=1).astype(float), rows)
        if ex.decision_row < T:
            self.decision_line.setPos(ex.decision_row + 0.5)
            self.decision_line.show()
        else:
            self.decision_line.hide()
        self._draw_occlusion(ex)
        self._draw_gates()
        p = float(ex.probabilities[ex.predicted])
        decided = (f"settles on it at row {ex.decision_row + 1} of {T}" if ex.decision_row < T
                   else "the readout never settles")
        source = f" — {label}" if label else ""
        by = f" — model: {html.escape(model, quote=False)}" if model else ""
        self._summary.setText(f"<b>Prediction: {ex.predicted}</b> ({p:.0%}); the row-by-row "
                              f"readout {decided}{source}{note}{by}")

    def _draw_occlusion(self, ex: Explanation) -> None:
        d = ex.occlusion
        brushes = [self._against if v > 0 else self._supports for v in d]
        self.occlusion_bars.setOpts(x0=np.minimum(d, 0.0), y=self._rows[:len(d)], width=np.abs(d),
                                    height=0.8, brushes=brushes)
        # a round, symmetric range that changes only when the bars outgrow it (or shrink a lot)
        span = panels.nice_ceiling(float(np.abs(d).max()) * 1.05, 0.01, (1, 2, 5, 10))
        self._set_x_range(self.occlusion_plot, -span, span)

    @staticmethod
    def _set_x_range(plot, lo: float, hi: float) -> None:
        """Change the range (and its end-only ticks) only when it differs: a new range redraws the
        axis. Narrow axes label only their ends (and 0): automatic ticks ran together."""
        (cur_lo, cur_hi), _ = plot.getViewBox().viewRange()
        if abs(cur_lo - lo) > 1e-9 or abs(cur_hi - hi) > 1e-9:
            plot.setXRange(lo, hi, padding=0)
            end_ticks(plot.getAxis("bottom"), lo, hi, zero=lo < 0)

    def _draw_tint(self) -> None:
        ex = self._explanation
        if ex is None or ex.attention is None or not self._tint_check.isChecked():
            self.attention_tint.clear()
            return
        w = ex.attention / max(float(ex.attention.max()), 1e-12)
        rgba = np.empty((len(w), ex.image.shape[1], 4), dtype=np.uint8)
        rgba[..., 0], rgba[..., 1], rgba[..., 2] = panels.ATTENTION_RGB
        rgba[..., 3] = (w * 140).astype(np.uint8)[:, None]
        self.attention_tint.setImage(rgba, autoLevels=False)

    def current_states(self) -> dict[str, np.ndarray] | None:
        """The gates and states of the selected layer and direction (None when empty)."""
        ex = self._explanation
        if ex is None:
            return None
        key = tuple(self._layer_combo.currentData() or (0, 0))
        return ex.gates.get(key) or ex.gates[(0, 0)]

    def _draw_gates(self) -> None:
        states = self.current_states()
        if states is None:
            return
        by = self._order_combo.currentData() or BY_CHANGE
        self.unit_order = unit_order(states["hidden"], by)
        cell = getattr(self._explanation, "cell", "lstm")
        sources = CELL_PANELS.get(cell, {})
        for name, img in self.gate_images.items():
            source, _title = sources.get(name, (name, None))
            if source is not None and source in states:
                img.setImage(states[source][:, self.unit_order], autoLevels=False)
            else:
                img.clear()
        if cell != getattr(self, "_cell_shown", "lstm"):  # titles re-render: only when the cell changes
            self._cell_shown = cell
            for name, plot in self.gate_plots.items():
                title = sources.get(name, (name, None))[1] or dict((n, t) for n, t, _ in panels.GATE_PANELS)[name]
                plot.setTitle(title, **self._theme.title_style)
        if by != self._order_shown:  # a new axis label re-renders the axis: only on a change
            self._order_shown = by
            for plot in self.gate_plots.values():
                plot.setLabel("bottom", "units (sorted)" if by == BY_CHANGE else "unit", color=self._theme.axis)
        # the scale follows the cell's large values but not one outlier unit (the top 1% of
        # values are shown in the end colours)
        if "cell" not in states:
            return
        c_max = panels.nice_ceiling(float(np.percentile(np.abs(states["cell"]), 99)))
        if c_max != self._cell_max:  # the bar repaints only when its range changes
            self._cell_max = c_max
            self.cell_bar.setLevels((-c_max, c_max))

    # ------------------------------------------------------------------ slots
    def _on_layer_changed(self, _index: int) -> None:
        self._update_legend()
        self._draw_gates()

    def _on_tint_toggled(self, _checked: bool) -> None:
        self._draw_tint()

    def _on_mouse_moved(self, scene, pos: QPointF) -> None:
        ex = self._explanation
        self._hover.setText((describe_point(self, ex, pos, scene) if ex is not None else "") or " ")

    def _describe_point(self, ex: Explanation, pos: QPointF, scene=None) -> str:
        return describe_point(self, ex, pos, scene)


# which state each of the six panels shows for the other cells (None: the cell has no such thing)
CELL_PANELS = {
    "gru": {"input": ("reset", "reset gate r"), "forget": ("update", "update gate z"),
            "output": (None, "(a GRU has no output gate)"), "candidate": ("candidate", "candidate n"),
            "hidden": ("hidden", "hidden state h"), "cell": (None, "(a GRU has no cell state)")},
    "rnn": {"input": (None, "(a plain RNN has no gates)"), "forget": (None, "—"), "output": (None, "—"),
            "candidate": (None, "—"), "hidden": ("hidden", "hidden state h = tanh(…)"),
            "cell": (None, "(no cell state)")},
}
