"""The Draw and Inside tabs: the pad, the model it reads with, and the explanation beside it.

One InsideView follows the user: beside the pad on Draw (so it updates while they draw), full size
on its own tab. Explanations are computed on the inference worker's thread (ui/inference_worker.py)
and only painted here; the input is fitted to the model with core.inference.fit_input, the same
function the per-epoch probe uses.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from lstm_desktop.core.inference import fit_input, inference_copy
from lstm_desktop.ui.inference_worker import InferenceWorker

log = logging.getLogger(__name__)


class ExplainController(QObject):
    """Asks the worker to explain the newest input with the current model; paints the answer."""

    def __init__(self, view, worker: InferenceWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.worker = worker
        self.model = None
        self.background = -1.0
        self.image: np.ndarray | None = None
        self.label = ""
        self._pending = 0
        self._dirty = False
        self.last_request_at = 0.0
        worker.explained.connect(self._on_explained)

    def set_model(self, checkpoint) -> None:
        if checkpoint is None:
            self.model = None
        else:
            try:
                self.model = inference_copy(checkpoint)
                mean, std = float(getattr(checkpoint, "mean", 0.5)), float(getattr(checkpoint, "std", 0.5)) or 0.5
                config = getattr(checkpoint, "config", None)
                one_hot = config is not None and config.dataset == "temporal-order"
                self.background = 0.0 if one_hot else (0.0 - mean) / std  # a blank step of a one-hot task is 0
                self.view.configure(checkpoint)
            except Exception as exc:  # a broken checkpoint must not take the window down
                log.exception("cannot explain this model")
                self.model = None
                self.view.show_explanation(None, note=f"cannot explain this model ({exc}).")
                return
        self.request()

    def set_input(self, image: np.ndarray | None, label: str = "") -> None:
        self.image = None if image is None else np.array(image, dtype=np.float32, copy=True)
        self.label = label
        self.request()

    def request(self) -> None:
        """Explain now if the view is on screen, else when it is shown (drawing then costs nothing)."""
        if not self.view.isVisible():
            self._dirty = True
            self.worker.cancel_explanations()
            return
        self._dirty = False
        if getattr(self, "follow_path", None) and self.image is not None:
            self._note = f" — the training run after epoch {self.follow_epoch}"
            self._pending = self.worker.explain_file(self.follow_path, self.image)
            return
        if self.model is None:
            self.view.show_explanation(None, note="No model to look into yet: train one, or open a saved model.")
            return
        if self.image is None:
            self.view.show_explanation(None, note="Draw a digit on the pad, or pick a test image in the "
                                                  "confusion matrix, to see what the LSTM does with it.")
            return
        spec = self.model.spec
        image = fit_input(np.nan_to_num(np.squeeze(self.image), nan=self.background), (spec.seq_len, spec.input_size))
        if image is None:
            self.view.show_explanation(None, note=f"This model reads {spec.seq_len}x{spec.input_size} sequences, "
                                                  "not drawings: pick one of its test samples in the Results tab.")
            return
        note = "" if image.shape == np.squeeze(self.image).shape else \
            f" (resampled to {spec.seq_len}x{spec.input_size} for this model)"
        self._note = note
        self._pending = self.worker.explain(self.model, image, self.background)

    def follow(self, path: str | None, epoch: int = 0) -> None:
        """Explain with a training run's newest epoch (path) instead of the chosen model; None stops."""
        self.follow_path, self.follow_epoch = path, epoch
        self.request()

    def on_shown(self) -> None:
        if self._dirty:
            self.request()

    def _on_explained(self, serial: int, explanation, error: str) -> None:
        if serial != self._pending:
            return
        if explanation is None:
            self.view.show_explanation(None, note=f"Could not explain this input: {error}" if error else
                                       "The training run's model does not read drawings.")
            return
        self.view.show_explanation(explanation, self.label, getattr(self, "_note", ""))


class DrawTab(QObject):
    """Places the pad, the model selector and the inside view; owns the explanation controller."""

    def __init__(self, window, draw_tab: QWidget, inside_tab: QWidget, worker: InferenceWorker) -> None:
        super().__init__(window)
        from lstm_desktop.ui.inside_view import InsideView
        from lstm_desktop.ui.pad_panel import PadPanel

        self.window = window
        self.inside_tab = inside_tab
        self.pad_panel = PadPanel(worker=worker)
        self.inside_view = InsideView()
        self.inside_view.setObjectName(self.inside_view.objectName() or "insideView")
        self.inside_view.setMinimumSize(360, 240)  # beside the pad on a 1024 px screen
        self.explainer = ExplainController(self.inside_view, worker, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("drawSplitter")
        left = QWidget()
        left.setObjectName("drawLeft")
        self.left_layout = QVBoxLayout(left)
        self.left_layout.setContentsMargins(0, 0, 0, 0)
        from lstm_desktop.ui.widgets.model_selector import SHIPPED, ModelSelector

        self.model_selector = ModelSelector(window.runs)
        self.model_selector.modelChosen.connect(
            lambda rid: window.use_on_pad(None if rid == SHIPPED else window.runs.get(rid)))
        chooser = QHBoxLayout()
        chooser.addWidget(QLabel("Model:"))
        chooser.addWidget(self.model_selector, 1)
        self.left_layout.addLayout(chooser)
        self.left_layout.addWidget(self.pad_panel, 1)
        from lstm_desktop.ui.teach import TeachRow

        self.teach_row = TeachRow()
        self.left_layout.addWidget(self.teach_row)
        self.splitter.addWidget(left)
        _replace_content(draw_tab, self.splitter)
        inside_tab.layout().setContentsMargins(0, 0, 0, 0)
        self.pad_panel.inputChanged.connect(self._on_pad_input)
        self.inside_view.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt name
        if obj is self.inside_view and event.type() == event.Type.Show:
            self.explainer.on_shown()
        return False

    def _on_pad_input(self, image) -> None:
        if self.pad_panel.pad.is_drawing():
            # live predictions follow the pen; the explanation (heavier to compute and to paint)
            # waits for the pen to lift, so drawing stays smooth
            return
        name = self.pad_panel.pad.image_name() if self.pad_panel.pad.image() is not None and \
            not self.pad_panel.pad.strokes() else "your drawing"
        self.explainer.set_input(image, name if image is not None else "")

    def set_model(self, checkpoint, label: str) -> None:
        """The model the pad reads with and the inside view explains."""
        self.pad_panel.set_model(checkpoint, label)
        self.explainer.set_model(checkpoint)

    def explain_image(self, image: np.ndarray, label: str) -> None:
        self.explainer.set_input(image, label)

    def place_inside_view(self, on_draw_tab: bool) -> None:
        view = self.inside_view
        if on_draw_tab and view.parent() is not self.splitter:
            self.splitter.addWidget(view)
            self.splitter.setStretchFactor(0, 1)
            self.splitter.setStretchFactor(1, 1)
            width = max(self.splitter.width(), 1000)
            pad_side = self.splitter.widget(0)
            tools = self.pad_panel.tools.sizeHint().width() + 24  # Pen, Undo, Redo, Clear, Open unsqueezed
            # what the pad's tools need (the rest shows every inside panel whole), and on a big screen 40%
            left = max(pad_side.minimumSizeHint().width(), tools, int(width * 0.4))
            self.splitter.setSizes([left, width - left])  # the pad needs less room than the panels
        elif not on_draw_tab and view.parent() is not self.inside_tab:
            self.inside_tab.layout().addWidget(view)


def _replace_content(tab: QWidget, widget: QWidget) -> None:
    layout = tab.layout()
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            item.widget().deleteLater()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widget)
