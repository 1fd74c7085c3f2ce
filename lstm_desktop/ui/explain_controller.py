"""Which model explains which input in "Inside the LSTM", and the hand-off to the inference worker.

Three models can be asked: the pad's (drawings), the model of the run a test image came from (the
Results tab's confusion cells: that image is explained with *its* run's model, never the pad's), and
a training run's newest epoch (while it trains). The view's summary always names the model used.
Explanations are computed on the worker's thread (ui/inference_worker.py) and only painted here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from lstm_desktop.core.drawing.inference import blank_value, inference_copy
from lstm_desktop.ui.inference_worker import ExplainResult, InferenceWorker
from lstm_desktop.ui.inside.words import NO_INPUT, NO_MODEL

log = logging.getLogger(__name__)


class ExplainController(QObject):
    """Asks the worker to explain the newest input with the right model; paints the answer."""

    def __init__(self, view, worker: InferenceWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.worker = worker
        self.model = None  # the pad's model (an inference copy)
        self.background = blank_value()
        self.model_label = ""
        self.image: np.ndarray | None = None
        self.label = ""
        self.follow_path: str | None = None
        self.follow_epoch = 0
        self._own: tuple[Any, str] | None = None  # the input's own model: (checkpoint or path, label)
        self._copies: dict[int, tuple[Any, Any, float]] = {}  # id(checkpoint) -> (checkpoint, copy, blank)
        self._pending = 0
        self._pending_model = ""
        self._dirty = False
        worker.explained.connect(self._on_explained)

    def set_model(self, checkpoint, label: str = "") -> None:
        """The pad's model (a Checkpoint or None), which explains drawings; label names it."""
        self.model_label = label or "the pad's model"
        if checkpoint is None:
            self.model = None
        else:
            try:
                self.model = inference_copy(checkpoint)
                self.background = blank_value(checkpoint)
                self.view.configure(checkpoint)
            except Exception as exc:  # a broken checkpoint must not take the window down
                log.exception("cannot explain this model")
                self.model = None
                self.view.show_explanation(None, note=f"cannot explain this model ({exc}).")
                return
        self.request()

    def set_input(self, image: np.ndarray | None, label: str = "", model=None, model_label: str = "") -> None:
        """Explain `image`. model: the checkpoint (or saved model path) this input belongs to, e.g.
        the run whose test image it is; None: a drawing, explained with the pad's model."""
        self.image = None if image is None else np.array(image, dtype=np.float32, copy=True)
        self.label = label
        self._own = None if model is None else (model, model_label or "the run's model")
        self.request()

    def follow(self, path: str | None, epoch: int = 0) -> None:
        """Explain drawings with a training run's newest epoch (path) instead of the pad's model; None stops."""
        self.follow_path, self.follow_epoch = path, epoch
        self.request()

    def request(self) -> None:
        """Explain now if the view is on screen, else when it is shown (drawing then costs nothing)."""
        if not self.view.isVisible():
            self._dirty = True
            self.worker.cancel_explanations()
            return
        self._dirty = False
        if self.image is None:
            if self.model is None and self._own is None and not self.follow_path:
                self.view.show_explanation(None, note=NO_MODEL)
            else:
                self.view.show_explanation(None, note=NO_INPUT)
            return
        if self._own is not None:
            source, label = self._own
            if isinstance(source, (str, Path)):
                self._submit_file(str(source), label)
            else:
                try:
                    model, background = self._copy_of(source)
                except Exception as exc:  # a broken checkpoint must not take the window down
                    log.exception("cannot explain with this run's model")
                    self.view.show_explanation(None, note=f"cannot explain with {label} ({exc}).")
                    return
                self._submit(model, background, label)
            return
        if self.follow_path:
            self._submit_file(self.follow_path, f"the training run after epoch {self.follow_epoch}")
            return
        if self.model is None:
            self.view.show_explanation(None, note=NO_MODEL)
            return
        self._submit(self.model, self.background, self.model_label)

    def on_shown(self) -> None:
        if self._dirty:
            self.request()

    def _copy_of(self, checkpoint) -> tuple[Any, float]:
        """An inference copy of a run's checkpoint, made once per checkpoint (clicking through a
        confusion cell's images does not copy the model again)."""
        key = id(checkpoint)
        cached = self._copies.get(key)
        if cached is None or cached[0] is not checkpoint:
            cached = (checkpoint, inference_copy(checkpoint), blank_value(checkpoint))
            self._copies = {key: cached}  # the newest run only: copies are not kept forever
        return cached[1], cached[2]

    def _submit(self, model, background: float, model_label: str) -> None:
        self._pending_model = model_label
        self._pending = self.worker.explain(model, self.image, background, model_label)

    def _submit_file(self, path: str, model_label: str) -> None:
        self._pending_model = model_label
        self._pending = self.worker.explain_file(path, self.image, model_label)

    def _on_explained(self, serial: int, result: ExplainResult | None, error: str) -> None:
        if serial != self._pending:
            return
        if result is None:
            self.view.show_explanation(None, note=f"Could not explain this input with {self._pending_model}: "
                                                  f"{error}" if error else "Could not explain this input.")
            return
        if result.explanation is None:
            self.view.show_explanation(None, note=f"{result.model}: {result.note}")
            return
        self.view.show_explanation(result.explanation, self.label, result.note, model=result.model)
