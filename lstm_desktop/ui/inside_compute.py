"""The computing half of the "Inside the LSTM" view, with no Qt: copy a model for explaining, fit
an input to it, and run `core.introspect.explain`.

Why apart from the view: the window may run this on a worker thread and hand the result to
`InsideView.show_explanation`, which only paints. The view's own synchronous path
(`set_model` / `set_input`) uses the same functions.
"""

from __future__ import annotations

import numpy as np

from lstm_desktop.core.introspect import Explanation, explain, fit_to_model
from lstm_desktop.core.models import LSTMClassifier


def copy_model(checkpoint) -> tuple[LSTMClassifier, float]:
    """A CPU copy of a checkpoint's model in eval mode, and the value of a blank pixel.

    The copy is the view's own, so a model that is still training elsewhere is neither switched to
    eval nor read while it changes. Raises what a broken checkpoint raises.
    """
    spec = checkpoint.spec
    model = LSTMClassifier(spec)
    state = {k: v.detach().to("cpu", copy=True) for k, v in checkpoint.model.state_dict().items()}
    model.load_state_dict(state)
    model.eval()
    mean = float(getattr(checkpoint, "mean", 0.5))
    std = float(getattr(checkpoint, "std", 0.5)) or 0.5
    return model, (0.0 - mean) / std


def fit_input(model: LSTMClassifier, image: np.ndarray, background: float) -> tuple[np.ndarray, str]:
    """The image as the model reads it (NaN as background, resampled to its rows and columns),
    and a note for the summary line when it had to be resampled."""
    img = np.nan_to_num(np.squeeze(np.asarray(image, dtype=np.float32)), nan=background)
    spec = model.spec
    if img.ndim == 2 and img.shape != (spec.seq_len, spec.input_size):
        note = (f" (resampled from {img.shape[0]}x{img.shape[1]} to "
                f"{spec.seq_len}x{spec.input_size} for this model)")
        return fit_to_model(img, model), note
    return img, ""


def explain_image(model: LSTMClassifier, image: np.ndarray, background: float,
                  parallel: bool | None = None) -> tuple[Explanation, str]:
    """Everything the view draws for one image, and the resampling note (may raise ValueError)."""
    img, note = fit_input(model, image, background)
    return explain(model, img, background=background, parallel=parallel), note
