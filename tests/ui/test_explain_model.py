"""'Explain in Inside the LSTM' from a run's confusion cell explains with that run's model, not the
pad's, and the inside view names the model it used (issue 27's symptom: "Prediction: 7 (100%) ...
true 7, predicted 9" came from the pad's model)."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt

from lstm_desktop.core.models.checkpoint import Checkpoint
from lstm_desktop.core.drawing.inference import inference_copy
from lstm_desktop.core.models.introspect import explain
from lstm_desktop.core.training.metrics import compute_metrics
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
from lstm_desktop.core.runs.evented_runs import RunStatus

DIGIT = 3
EXPLAIN_TIMEOUT_MS = 30_000


def _checkpoint(seed: int) -> Checkpoint:
    torch.manual_seed(seed)
    spec = ModelSpec(hidden=16)
    return Checkpoint(LSTMClassifier(spec), spec)


def _test_images(n: int = 4) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = -np.ones((n, 28, 28), np.float32)
    for i in range(n):
        col = 10 + int(rng.integers(0, 6))
        images[i, 5:23, col:col + 3] = 1.0  # a bar: the runs' models only need to read something
    return images


def test_explain_from_a_confusion_cell_uses_the_clicked_runs_model(qtbot, window) -> None:
    pad_ckpt, run_ckpt = _checkpoint(0), _checkpoint(1)
    window.draw.set_model(pad_ckpt, "the pad's model")
    images = _test_images()
    labels = np.full(len(images), DIGIT)
    run = window.new_run("Run B", None, status=RunStatus.FINISHED, variant="LSTM (16)", dataset="mnist",
                         metrics=compute_metrics(labels, labels, 10))
    run.extra.update(checkpoint=run_ckpt, test_images=images, test_labels=labels, test_predictions=labels)
    window.runs_panel.select(run.id)
    matrix = window.metrics_view.matrix
    qtbot.mouseClick(matrix, Qt.MouseButton.LeftButton, pos=matrix.cell_rect(DIGIT, DIGIT).center().toPoint())
    gallery = window.metrics_view.gallery
    assert gallery.count() == len(images)
    gallery.select_index(0)
    gallery.explain_button.click()

    view = window.draw.inside_view
    expected = explain(inference_copy(run_ckpt), images[0]).probabilities
    pads = explain(inference_copy(pad_ckpt), images[0]).probabilities
    assert not np.allclose(expected, pads, atol=1e-3)  # the two models tell apart
    qtbot.waitUntil(lambda: view.explanation is not None
                    and np.allclose(view.explanation.probabilities, expected, atol=1e-5)
                    and "Run B" in view.summary.text(), timeout=EXPLAIN_TIMEOUT_MS)
    assert "model: Run B" in view.summary.text()

    # a drawing on the pad goes back to the pad's model, and the view says so
    window.draw.explainer.set_input(images[1], "your drawing")
    pad_expected = explain(inference_copy(pad_ckpt), images[1]).probabilities
    qtbot.waitUntil(lambda: view.explanation is not None
                    and np.allclose(view.explanation.probabilities, pad_expected, atol=1e-5), timeout=EXPLAIN_TIMEOUT_MS)
    assert "model: the pad's model" in view.summary.text()
