"""The "Draw" tab's panel: drawing pad, live prediction, probability bars and what the model sees.

Predictions are computed off the GUI thread (ui/inference_worker.py): while a stroke is drawn at
most every LIVE_INTERVAL_MS, and at once when the pen is lifted; the GUI thread only paints the
answer. The pad's content goes through core.preprocess.preprocess, the same function image files
and `lstm-desktop classify` use. The newest model-ready drawing is kept in a thread-safe box
(`probe`) that the training thread reads for its per-epoch probe: no thread but the GUI's ever
touches a widget.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget
from superqt.utils import qthrottled

from lstm_desktop.core.drawing.classify import Prediction, Verdict, interpret, judge, model_input_problem, stroke_limit
from lstm_desktop.core.training.control import LatestValue
from lstm_desktop.core.data.image_sets import MEAN, STD
from lstm_desktop.core.errors import ImageError
from lstm_desktop.core.drawing.images import FILE_DIALOG_FILTER, IMAGE_SUFFIXES, load_image, load_image_bytes
from lstm_desktop.core.drawing.preprocess import Preprocessed
from lstm_desktop.core.drawing.strokes import PEN_DEFAULT, PEN_MAX, PEN_MIN
from lstm_desktop.ui.inference_worker import InferenceWorker, PadRequest, PadResult
from lstm_desktop.ui.widgets.drawing_pad import DrawingPad
from lstm_desktop.ui.widgets.prediction_view import PredictionView

log = logging.getLogger(__name__)

LIVE_INTERVAL_MS = 40  # live predictions while drawing, at most this often
DOUBTS = {  # core.classify.input_doubt's reasons, as the pad says them
    "too small": "Too small to read: draw the digit bigger.",
    "too thick": "Strokes too thick for the digit's size: draw bigger or use a thinner pen.",
    "too much ink": "That is more ink than any digit the model was trained on.",
    "not a digit": "That does not look like a digit (a dash, a dot or a scribble?).",
}


class PadPanel(QWidget):
    """Draw a digit (or drop an image) and see what the model makes of it.

    inputChanged(object): the model-ready (normalised) 28x28 float32 array of the current drawing,
    or None when the pad is empty. predictionChanged(object): the Prediction now shown, or None.
    """

    inputChanged = Signal(object)
    predictionChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None, worker: InferenceWorker | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("padPanel")
        self.setAccessibleName("Draw a digit")
        self.probe = LatestValue()
        self._own_worker = worker is None
        self.worker = worker or InferenceWorker(self)
        self.worker.predicted.connect(self._on_predicted)
        self._pending = 0
        self._model = None
        self._mean, self._std = MEAN, STD
        self._model_label = ""
        self._model_problem: str | None = None
        self._pre: Preprocessed | None = None
        self._prediction: Prediction | None = None
        self._probabilities: np.ndarray | None = None
        self._doubt: str | None = None
        self._stroke_limit = stroke_limit(None)  # the model's: the widest stroke judge does not call too thick
        self._verdict: Verdict | None = None
        self._input: np.ndarray | None = None
        self._input_mid_stroke = False  # the last inputChanged came while the pen was down
        self._last_dir = ""
        self._live = qthrottled(self._on_live_timeout, LIVE_INTERVAL_MS, leading=False, parent=self)
        self._build()
        self.setAcceptDrops(True)
        self._refresh()

    # -- interface the main window relies on ---------------------------------------------------
    def set_model(self, checkpoint, label: str) -> None:
        """Use this model (a core.checkpoint.Checkpoint, or None) for predictions; label names its source."""
        from lstm_desktop.core.drawing.inference import inference_copy

        self._model = None
        self._stroke_limit = stroke_limit(checkpoint)
        self._model_problem = None
        self._model_label = label or ""
        if checkpoint is None:
            self.model_label.setText(label or "Model: none")
            self._model_problem = label or None
        else:
            problem = model_input_problem(checkpoint)
            if problem:
                self._model_problem = f"{label or 'This model'}: {problem}."
                self.model_label.setText(f"Model: {label} (cannot read drawings)")
            else:
                self._model = inference_copy(checkpoint)
                self._mean, self._std = float(checkpoint.mean), float(checkpoint.std)
                self.model_label.setText(f"Model: {label}")
        path = getattr(checkpoint, "path", None)
        self.model_label.setToolTip(str(path) if path else label)
        self._refresh()

    def current_input(self) -> np.ndarray | None:
        """The last model-ready drawing (a read-only array), or None. Safe from any thread."""
        return self.probe.get()

    def close_worker(self) -> None:
        if self._own_worker:
            self.worker.close()

    def settle(self, timeout_ms: int = 5000) -> bool:
        """Wait (processing events) until the newest drawing's prediction is shown."""
        return self.worker.wait_idle(timeout_ms)

    @property
    def prediction(self) -> Prediction | None:
        return self._prediction

    @property
    def probabilities(self) -> np.ndarray | None:
        return self._probabilities

    @property
    def preprocessed(self) -> Preprocessed | None:
        return self._pre

    @property
    def verdict(self) -> Verdict | None:
        """core.classify.judge's verdict on what is shown (the rule `lstm-desktop classify` uses), or None."""
        return self._verdict

    @property
    def unsure(self) -> bool:
        """True when nothing confident is shown (empty pad, no model, or a doubtful input)."""
        return self._prediction is None or self._doubt is not None

    def status_text(self) -> str:
        return self.view.status_label.text()

    def clear(self) -> None:
        self.pad.clear()

    def undo(self) -> None:
        self.pad.undo()

    def redo(self) -> None:
        self.pad.redo()

    def set_pen_width(self, width: float) -> None:
        self.pad.set_pen_width(width)
        self.pen_slider.blockSignals(True)
        self.pen_slider.setValue(int(round(self.pad.pen_width())))
        self.pen_slider.blockSignals(False)
        self.pen_value.setText(f"{self.pad.pen_width():.0f}")

    def load_image_file(self, path: str | Path) -> bool:
        """Show and classify an image file; on failure the reason is shown in the panel."""
        try:
            pixels = load_image(path)
        except ImageError as exc:
            log.info("image not loaded: %s", exc.message)
            self._show_message(f"{exc.message} {exc.hint}".strip())
            return False
        self._last_dir = str(Path(path).expanduser().parent)
        self.load_image_array(pixels, Path(path).name)
        return True

    def load_image_array(self, pixels: np.ndarray, name: str = "image") -> None:
        self._show_message(None)
        self.pad.set_image(pixels, name)

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a digit image", self._last_dir,
                                              f"{FILE_DIALOG_FILTER};;All files (*)")
        if path:
            self.load_image_file(path)

    # -- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.pad = DrawingPad(self)
        self.view = PredictionView(self)
        self.bars, self.preview = self.view.bars, self.view.preview
        self.digit_label, self.confidence_label = self.view.digit_label, self.view.confidence_label
        self.status_label = self.view.status_label
        self.pen_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.pen_slider.setObjectName("penWidthSlider")
        self.pen_slider.setAccessibleName("Pen width")
        self.pen_slider.setRange(int(PEN_MIN), int(PEN_MAX))
        self.pen_slider.setValue(int(PEN_DEFAULT))
        self.pen_slider.setToolTip("Width of the next strokes")
        self.pen_slider.setMinimumWidth(80)  # at 1024 px it shrank to its handle
        self.pen_slider.valueChanged.connect(self._on_pen_slider_changed)
        self.pen_value = QLabel(f"{PEN_DEFAULT:.0f}", self)
        self.pen_value.setObjectName("penWidthValue")
        self.pen_value.setMinimumWidth(24)
        pen_label = QLabel("Pen", self)
        pen_label.setBuddy(self.pen_slider)
        undo_keys = [QKeySequence(QKeySequence.StandardKey.Undo)]
        redo_keys = _unique_keys(QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
                                 + [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        clear_keys = [QKeySequence(Qt.Key.Key_Escape), QKeySequence(Qt.Key.Key_Delete)]
        self.undo_action = self._action("Undo", "undoAction", undo_keys, self.undo)
        self.redo_action = self._action("Redo", "redoAction", redo_keys, self.redo)
        self.clear_action = self._action("Clear", "clearAction", clear_keys, self.clear)
        self.open_action = self._action("Open image…", "openImageAction", [], self.open_image_dialog)
        self.undo_button = self._button(self.undo_action, "undoButton", "Undo the last stroke (Ctrl+Z)")
        self.redo_button = self._button(self.redo_action, "redoButton", "Redo (Ctrl+Shift+Z)")
        self.clear_button = self._button(self.clear_action, "clearButton", "Clear the pad (Esc or Delete)")
        self.open_button = self._button(self.open_action, "openImageButton",
                                        "Classify a PNG or JPEG image (or drop one on the pad)")
        self.tools = QHBoxLayout()
        self.tools.addWidget(pen_label)
        self.tools.addWidget(self.pen_slider, 1)
        self.tools.addWidget(self.pen_value)
        self.tools.addSpacing(12)
        for b in (self.undo_button, self.redo_button, self.clear_button, self.open_button):
            self.tools.addWidget(b)
        self.message_label = QLabel("", self)
        self.message_label.setObjectName("padMessageLabel")
        self.message_label.setAccessibleName("Message")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("QLabel { background: #fde8e8; color: #7a1010; padding: 4px; "
                                         "border-radius: 3px; }")
        self.message_label.hide()
        self.model_label = QLabel("Model: none", self)
        self.model_label.setObjectName("padModelLabel")
        self.model_label.setAccessibleName("Model in use")
        self.model_label.setWordWrap(True)
        self.view.layout().addWidget(self.model_label)
        self.body = QHBoxLayout()
        self.body.addWidget(self.pad, 1)
        self.body.addWidget(self.view, 0)
        self.root = QVBoxLayout(self)
        self.root.addLayout(self.tools)
        self.root.addWidget(self.message_label)
        self.root.addLayout(self.body, 1)
        self.pad.strokeMoved.connect(self._on_pad_stroke_moved)
        self.pad.contentChanged.connect(self._on_pad_content_changed)
        self._update_actions()

    def _action(self, text: str, name: str, keys: list[QKeySequence], slot) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if keys:
            action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _button(self, action: QAction, name: str, tip: str) -> QPushButton:
        b = QPushButton(action.text(), self)
        b.setObjectName(name)
        b.setAccessibleName(action.text().rstrip("…"))
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        b.clicked.connect(action.trigger)
        return b

    # -- updating --------------------------------------------------------------------------
    def _on_pen_slider_changed(self, value: int) -> None:
        self.pad.set_pen_width(value)
        self.pen_value.setText(str(value))

    def _on_pad_stroke_moved(self) -> None:
        self._live()

    def _on_live_timeout(self) -> None:
        if self.pad.is_drawing():
            self._refresh()

    def _on_pad_content_changed(self) -> None:
        self._live.cancel()
        if not self.pad.state.empty:
            self._show_message(None)
        self._update_actions()
        self._refresh()

    def _update_actions(self) -> None:
        self.undo_action.setEnabled(self.pad.can_undo())
        self.redo_action.setEnabled(self.pad.can_redo())
        self.clear_action.setEnabled(not self.pad.state.empty)
        for button, action in ((self.undo_button, self.undo_action), (self.redo_button, self.redo_action),
                               (self.clear_button, self.clear_action)):
            button.setEnabled(action.isEnabled())

    def _source(self) -> tuple[np.ndarray | None, str, float]:
        """(pixels, polarity, widest pen) of what the pad shows now."""
        pad = self.pad
        if pad.is_drawing() or pad.strokes():
            widths = [s.width for s in pad.strokes()] + ([pad.pen_width()] if pad.is_drawing() else [])
            return pad.raster().copy(), "ink", max(widths)
        if pad.image() is not None:
            return pad.image(), "auto", 0.0
        return None, "ink", 0.0

    def _refresh(self) -> None:
        """Hand what the pad shows to the worker; _on_predicted paints the answer."""
        pixels, polarity, pen = self._source()
        self._pen = pen
        self._pending = self.worker.predict(self._model, PadRequest(pixels, polarity, pen, self._mean, self._std))

    def _on_predicted(self, serial: int, result: PadResult | None) -> None:
        if serial != self._pending or result is None:
            return  # an answer to an older drawing
        pre, probs = result.pre, result.probabilities
        self._pre = pre
        title = ("What the model sees (28×28)" if self.pad.image() is None or self.pad.strokes()
                 else f"{self.pad.image_name()}, as the model sees it")
        self.view.set_image(pre.image if pre is not None else None, title)
        prediction = interpret(probs) if probs is not None else None
        if probs is not None and not np.all(np.isfinite(probs)):
            prediction, probs = None, None
            self._model_problem = "This model gives no valid probabilities (its weights are damaged)."
        self._show(pre, prediction, probs, self._pen)
        self.predictionChanged.emit(prediction)
        x = result.model_input
        previous = self._input
        self._input = x
        self.probe.set(x)
        drawing = self.pad.is_drawing()
        # the pen lifted where it stopped: the same input again, but now settled (the inside view waits for it)
        if not _same(previous, x) or (self._input_mid_stroke and not drawing):
            self._input_mid_stroke = drawing
            self.inputChanged.emit(x)

    def _show(self, pre: Preprocessed | None, prediction: Prediction | None, probs, pen: float) -> None:
        self._prediction = prediction
        self._probabilities = probs
        self._doubt, self._verdict = None, None
        if pre is None:
            self.view.show_empty("Draw a digit (0–9), or drop an image on the pad.")
            return
        if prediction is None:
            self.view.show_empty(self._model_problem or
                                 "No model yet: train one or open a checkpoint to see predictions.")
            return
        verdict = judge(pre, probs, pen or None, self.pad.canvas_size if pen else None,
                        self.pad.strokes() if pen else None, self._stroke_limit)
        doubt = DOUBTS.get(verdict.doubt, verdict.doubt) if verdict.doubt else None
        if doubt is None and prediction.unsure:
            doubt = (f"Unsure: maybe {prediction.digit} ({prediction.confidence * 100:.0f}%) "
                     f"or {prediction.runner_up} ({prediction.runner_up_confidence * 100:.0f}%).")
        self._doubt = doubt
        self._verdict = verdict
        self.view.show_prediction(prediction.digit, prediction.confidence, probs, doubt)
        if not verdict.rated:  # no digit at all: no confidence figure means anything next to that
            self.view.confidence_label.setText("no confidence: see below")

    def _show_message(self, text: str | None) -> None:
        if text:
            self.message_label.setText(text)
            self.message_label.show()
        else:
            self.message_label.hide()

    # -- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if files:
            images = [f for f in files if Path(f).suffix.lower() in IMAGE_SUFFIXES] or files
            self.load_image_file(images[0])
            event.acceptProposedAction()
            return
        if mime.hasImage():
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            mime.imageData().save(buffer, "PNG")
            try:
                self.load_image_array(load_image_bytes(bytes(buffer.data()), "dropped image"), "dropped image")
            except ImageError as exc:
                self._show_message(f"{exc.message} {exc.hint}".strip())
            event.acceptProposedAction()
            return
        event.ignore()


def _unique_keys(keys: list[QKeySequence]) -> list[QKeySequence]:
    out: list[QKeySequence] = []
    for k in keys:
        if not k.isEmpty() and all(k != o for o in out):
            out.append(k)
    return out


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a is b or np.array_equal(a, b)
