"""Inference helpers: probabilities for drawings, an inference copy of a model, and the one function
that fits a drawing to a model's input shape."""

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


def fit_input(image: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """A model-ready 28x28 drawing as the input of a model that reads `shape` (rows, features).

    The one place where a drawing meets a model of another shape: the per-epoch probe, the pad and
    the inside view all call it, so the plotted score and the explanation see the same image.
    28x28 -> 8x8 (scikit-learn's digits): MNIST keeps a 4-pixel margin and digits fill the frame,
    so the 24x24 centre is averaged in 3x3 blocks. Other shapes (sequence tasks) have no meaningful
    image input: None.
    """
    if image is None:
        return None
    img = np.asarray(image, dtype=np.float32)
    if img.shape == tuple(shape):
        return img
    if img.shape == (28, 28) and tuple(shape) == (8, 8):
        return np.ascontiguousarray(img[2:26, 2:26].reshape(8, 3, 8, 3).mean(axis=(1, 3)), dtype=np.float32)
    return None


def inference_copy(source) -> "LSTMClassifier":
    """A CPU copy of a checkpoint's (or a model's) network for inference: eval mode, no gradients,
    its own weights (a model still training elsewhere is never read while it changes), warmed up."""
    spec = source.spec
    model_in = getattr(source, "model", source)
    model = LSTMClassifier(spec)
    model.load_state_dict({k: v.detach().to("cpu", copy=True) for k, v in model_in.state_dict().items()})
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.inference_mode():
        model(torch.zeros(1, spec.seq_len, spec.input_size))
    return model
