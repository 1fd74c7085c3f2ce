"""What an exported ONNX model needs to say about its input: written into its metadata_props.

Why: an ONNX file alone says "float32 (batch, 28, 28)"; to use it anywhere else one must also
know which dataset it learnt, how an image became that sequence, the normalisation and what
each output means. Every value is a string (ONNX metadata is string to string); structured
values are JSON. No torch, no onnx: plain data from a checkpoint's fields.
"""

from __future__ import annotations

import json
from typing import Any

from lstm_desktop.core.models.checkpoint import Checkpoint

DIGITS = [str(d) for d in range(10)]
INPUT_NAME = "input"
OUTPUT_NAMES = ("logits", "probabilities")


def class_names(dataset: str, num_classes: int) -> list[str]:
    """The label of each output index."""
    if dataset == "temporal-order":
        from lstm_desktop.core.data.longlag import CLASS_NAMES

        return list(CLASS_NAMES)
    return DIGITS[:num_classes] if num_classes <= 10 else [str(i) for i in range(num_classes)]


def image_to_sequence(dataset: str, seq_len: int, input_size: int, permute: bool) -> str:
    """In words: how one sample becomes the (T, F) sequence the model reads."""
    if dataset == "temporal-order":
        return (f"A sequence of {seq_len} symbols from a, b, c, d, X, Y, B, E, each step one-hot over those 8 "
                f"symbols in that order (F = 8); the class is the order of its two X/Y symbols: XX, XY, YX, YY. "
                f"No normalisation.")
    if dataset == "pixel-mnist":
        order = ("in the fixed permuted order given by the 'permutation' entry (input[t] = flat[permutation[t]])"
                 if permute else "row by row, top left first")
        return (f"A 28x28 grey image, ink 1 on background 0 (MNIST polarity), pixel/255 then normalised, "
                f"flattened to {seq_len} steps of 1 pixel each, {order}.")
    side = 8 if dataset == "digits" else 28
    scale = "pixel/16 (scikit-learn digits, 0..16)" if dataset == "digits" else "pixel/255"
    text = (f"A {side}x{side} grey image, ink 1 on background 0 (MNIST polarity), scaled to [0, 1] by {scale} "
            f"then normalised; each of its {seq_len} rows is one time step of {input_size} features, top row "
            f"first: input[b, t, f] = (image[t, f] - mean) / std.")
    if dataset in ("mnist", "synthetic"):
        text += (" A drawing or photo is first made MNIST-like: ink found and cropped, longer side scaled to "
                 "20 px, centred by its centre of mass at (14, 14) in the 28x28 frame "
                 "(lstm_desktop.core.drawing.preprocess).")
    return text


def export_metadata(ckpt: Checkpoint, dataset: str, run: dict[str, Any] | None = None) -> dict[str, str]:
    """metadata_props for the ONNX file of `ckpt` trained on `dataset`."""
    from lstm_desktop import __version__

    spec = ckpt.spec
    permute = bool(ckpt.config.permute) if ckpt.config is not None and dataset == "pixel-mnist" else False
    normalised = dataset != "temporal-order"
    meta = {
        "producer": f"lstm-desktop {__version__}",
        "dataset": dataset,
        "input_name": INPUT_NAME,
        "input_layout": f"(batch, T, F) float32, batch first: batch is dynamic, T = {spec.seq_len} time steps, "
                        f"F = {spec.input_size} features per step",
        "seq_len": str(spec.seq_len),
        "input_size": str(spec.input_size),
        "outputs": "logits: (batch, classes) float32, unnormalised scores; probabilities: softmax(logits) "
                   "over the classes",
        "normalization": json.dumps({"mean": ckpt.mean, "std": ckpt.std,
                                     "formula": "(x - mean) / std" if normalised else "none (one-hot input)"}),
        "class_names": json.dumps(class_names(dataset, spec.num_classes)),
        "image_to_sequence": image_to_sequence(dataset, spec.seq_len, spec.input_size, permute),
        "model_spec": json.dumps(spec.to_dict()),
    }
    if permute:
        from lstm_desktop.core.data.longlag import PERMUTATION_SEED, pixel_permutation

        meta["permutation"] = json.dumps(pixel_permutation(PERMUTATION_SEED, spec.seq_len).tolist())
    if run:
        meta["run"] = json.dumps(run)
    return meta
