"""Scoring single drawings or many images with a loaded model, on the CPU, without gradients."""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch

from lstm_desktop.core.models import LSTMClassifier


def predict_probabilities(model: LSTMClassifier, images: np.ndarray) -> np.ndarray:
    """images: model-ready (normalised) arrays, (H, W) or (N, H, W) -> (N, classes) probabilities."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    if x.ndim == 2:
        x = x.unsqueeze(0)
    device = next(model.parameters()).device
    model.eval()
    with torch.inference_mode():
        return torch.softmax(model(x.to(device)), dim=1).float().cpu().numpy()


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block's torch ops on n intra-op threads (None: leave the setting alone).

    Interactive work on one image is made of many small ops that gain nothing from a second
    thread but lose a lot when the cores are busy (a trainer, other programs): OpenMP's threads
    then wait for each other, and a 10 ms explanation can take a second. torch's setting is
    per thread once a thread has used it, so a trainer thread keeps its own; the previous value
    is restored on exit.
    """
    if n is None or n == torch.get_num_threads():
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
