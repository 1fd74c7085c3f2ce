"""Pad predictions and inside-view explanations, computed on one background thread.

The GUI thread only paints: it hands the newest drawing to this worker and paints whatever comes
back. Requests coalesce (a drawing that changed five times while an explanation ran is explained
once, in its newest state) and each result carries the number of its request, so a late answer to
an old drawing is dropped. A prediction is always served before an explanation, so the digit and
its bars keep up with the pen while the heavier explanation follows.

A plain Python thread does the work; results reach the GUI thread through the signals of a QObject
that lives there (Qt queues a signal emitted from another thread). Nothing Qt is created, owned or
deleted on the worker thread.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Signal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PadRequest:
    pixels: np.ndarray | None  # the pad's raster or loaded image (a private copy)
    polarity: str
    pen: float
    mean: float
    std: float


@dataclass(frozen=True)
class PadResult:
    pre: Any  # core.preprocess.Preprocessed or None (empty pad)
    probabilities: np.ndarray | None  # None: no model, or a model that cannot read drawings
    model_input: np.ndarray | None


@dataclass(frozen=True)
class ExplainResult:
    explanation: Any  # core.introspect.Explanation, or None when the model cannot read the input
    note: str  # resampled for the model, or why there is no explanation
    model: str  # which model explained it: every answer names it


class InferenceWorker(QObject):
    """predicted(request, PadResult); explained(request, ExplainResult or None, error text)."""

    predicted = Signal(int, object)
    explained = Signal(int, object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._jobs: dict[str, tuple[int, Callable[[], Any]]] = {}
        self._busy = False
        self._closed = False
        self._serial = 0
        self._thread = threading.Thread(target=self._loop, name="lstm-desktop-inference", daemon=True)
        self._thread.start()

    # ---- GUI thread -------------------------------------------------------------------------
    def predict(self, model, request: PadRequest) -> int:
        """Queue a pad prediction with `model` (an inference copy, or None); returns its number."""
        return self._submit("predict", lambda: _predict(model, request))

    def explain(self, model, image: np.ndarray, background: float, model_label: str = "") -> int:
        """Queue an explanation of `image` (model-ready; fitted to the model here) by `model`, an
        inference copy that model_label names."""
        return self._submit("explain", lambda: _explain(model, image, background, model_label))

    def explain_file(self, path: str, image: np.ndarray, model_label: str = "") -> int:
        """Explain `image` with the model saved at `path` (a training run's newest epoch, a stored
        run): the file is read on the worker thread too."""
        return self._submit("explain", lambda: _explain_file(path, image, model_label))

    def cancel_explanations(self) -> None:
        with self._cond:
            self._jobs.pop("explain", None)

    def idle(self) -> bool:
        with self._cond:
            return not self._busy and not self._jobs

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """Process events until every queued request is answered (tests, automation)."""
        import time

        deadline = time.monotonic() + timeout_ms / 1000
        app = QCoreApplication.instance()
        while time.monotonic() < deadline:
            if app is not None:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
            if self.idle():
                if app is not None:
                    app.processEvents()
                return True
            with self._cond:
                self._cond.wait(0.002)
        return False

    def close(self) -> None:
        """Stop the thread (it finishes the job in hand) and wait for it."""
        with self._cond:
            self._closed = True
            self._jobs.clear()
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def _submit(self, kind: str, job: Callable[[], Any]) -> int:
        with self._cond:
            self._serial += 1
            self._jobs[kind] = (self._serial, job)
            self._cond.notify_all()
            return self._serial

    # ---- worker thread ----------------------------------------------------------------------
    def _loop(self) -> None:
        from lstm_desktop.core.drawing.inference import torch_threads

        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                kind = "predict" if "predict" in self._jobs else "explain"
                serial, job = self._jobs.pop(kind)
                self._busy = True
            try:
                with torch_threads(1):  # one image: a second thread only waits on the first
                    result = job()
                error = ""
            except Exception as exc:  # noqa: BLE001 - a bad input must not end the worker
                log.exception("%s failed", kind)
                result, error = None, f"{type(exc).__name__}: {exc}"
            try:
                if kind == "predict":
                    self.predicted.emit(serial, result)
                else:
                    self.explained.emit(serial, result, error)
            except RuntimeError:  # the window is being destroyed
                return
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def _predict(model, request: PadRequest) -> PadResult:
    from lstm_desktop.core.drawing.classify import predict_single
    from lstm_desktop.core.drawing.inference import fit_input
    from lstm_desktop.core.drawing.preprocess import preprocess

    if request.pixels is None:
        return PadResult(None, None, None)
    pre = preprocess(request.pixels, polarity=request.polarity, mean=request.mean, std=request.std)
    if pre is None:
        return PadResult(None, None, None)
    fitted = None if model is None else fit_input(pre.model_input, (model.spec.seq_len, model.spec.input_size))
    probs = predict_single(model, fitted) if fitted is not None else None
    return PadResult(pre, probs, pre.model_input)


def _explain(model, image: np.ndarray, background: float, model_label: str) -> ExplainResult:
    from lstm_desktop.core.models.introspect import explain_input

    return ExplainResult(*explain_input(model, image, background), model_label)


def _explain_file(path: str, image: np.ndarray, model_label: str) -> ExplainResult:
    from lstm_desktop.core.models.checkpoint import load_checkpoint
    from lstm_desktop.core.drawing.inference import blank_value, inference_copy

    ckpt = load_checkpoint(path)
    return _explain(inference_copy(ckpt), image, blank_value(ckpt), model_label)
