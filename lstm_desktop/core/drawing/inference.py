"""Inference helpers, one of each: probabilities for drawings, the inference copy of a model, the
function that fits a drawing to a model's input shape, and the value of a blank pixel."""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch

from lstm_desktop.core.data.image_sets import MEAN, STD
from lstm_desktop.core.models.networks import LSTMClassifier


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


DIGIT_BOX = (4, 24)  # MNIST and the pad put a digit's 20x20 bounding box here (rows and columns)
ONE_HOT_DATASETS = ("temporal-order",)  # inputs are one-hot symbols: an empty step is all zeros


def fit_input(image: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """A model-ready 28x28 drawing as the input of a model that reads `shape` (rows, features).

    The one place where a drawing meets a model of another shape: the per-epoch probe, the pad, the
    Results tab's test images and the inside view all call it, so they all show the model the same
    image. Same shape: the image itself. 28x28 -> 8x8 (scikit-learn's digits, whose digits fill
    their frame): MNIST and the pad centre a digit's 20x20 box in a 4-pixel margin, so that box is
    area-resampled (each pixel split in 2x2, then 5x5 blocks averaged: the exact mean of the 2.5
    pixels each output pixel covers). Measured with 8x8 digits models reading 2,000 MNIST test digits
    (benchmarks/fit_input_maths.py): 47% right, against 31% for the 24x24 centre in 3x3 blocks and
    17% for the whole 28x28 average-pooled. Other shapes (sequence tasks) have no image input: None.
    """
    if image is None:
        return None
    img = np.asarray(image, dtype=np.float32)
    if img.shape == tuple(shape):
        return img
    if img.shape == (28, 28) and tuple(shape) == (8, 8):
        lo, hi = DIGIT_BOX
        box = img[lo:hi, lo:hi].repeat(2, axis=0).repeat(2, axis=1)  # 40x40: 2.5 px -> 5 whole cells
        return np.ascontiguousarray(box.reshape(8, 5, 8, 5).mean(axis=(1, 3)), dtype=np.float32)
    return None


def blank_value(checkpoint=None) -> float:
    """The value a blank pixel (an empty step) has in a checkpoint's model input.

    Images are normalised as (x - mean) / std, so a blank pixel is -mean / std (-1.0 for the
    notebook's 0.5, 0.5); a one-hot sequence task's empty step is all zeros. Occlusion and the
    inside view's missing pixels use it. checkpoint: anything with mean, std and config (or None).
    """
    config = getattr(checkpoint, "config", None)
    if getattr(config, "dataset", None) in ONE_HOT_DATASETS:
        return 0.0
    mean = getattr(checkpoint, "mean", None)
    std = getattr(checkpoint, "std", None)
    mean = MEAN if mean is None else float(mean)
    std = float(std) if std else STD
    return (0.0 - mean) / std


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
