"""Scoring single drawings or many images with a loaded model, on the CPU, without gradients."""

from __future__ import annotations

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
