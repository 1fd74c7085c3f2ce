"""Classifying digit images with a checkpoint: what the pad shows and `lstm-desktop classify` does.

`interpret` turns the ten probabilities into a `Prediction` (digit, confidence, runner-up and an
honest "unsure" flag); the pad and the command line share it. `classify_files` loads a model once,
reads and preprocesses the files one by one (a bad file becomes an error result, the others go
on) and runs the forward passes in batches of 256.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence, TextIO

import numpy as np

from lstm_desktop.core.errors import CheckpointError, ImageError
from lstm_desktop.core.drawing.inference import torch_threads
from lstm_desktop.core.drawing.preprocess import MAX_STROKE_WIDTH, SIZE, Preprocessed, preprocess

BATCH_SIZE = 256
# A top probability under this is shown as "unsure". Measured (benchmarks/stroke_eval.py, MNIST test):
# the softmax needs no temperature (the NLL-best T on held-out pen digits is 0.9-1.1), and at 0.8 three in
# four wrong answers are flagged and 3-4% of right ones; 0.6, the rule before, let two in three wrong pass.
UNSURE_BELOW = 0.8


@dataclass(frozen=True)
class Prediction:
    digit: int
    confidence: float
    probabilities: tuple[float, ...]
    runner_up: int
    runner_up_confidence: float

    @property
    def unsure(self) -> bool:
        return self.confidence < UNSURE_BELOW


def single_thread():
    """One intra-op thread for a small interactive forward pass (see inference.torch_threads)."""
    return torch_threads(1)


def predict_single(model, image: np.ndarray) -> np.ndarray:
    """Probabilities (10,) for one model-ready (H, W) image; on the CPU, one thread, no autograd."""
    import torch

    x = torch.from_numpy(np.array(image, dtype=np.float32, copy=True)).unsqueeze(0)
    with single_thread(), torch.inference_mode():
        logits = model(x.to(next(model.parameters()).device))
        return torch.softmax(logits.float(), dim=1)[0].cpu().numpy()


def interpret(probabilities: np.ndarray | Sequence[float]) -> Prediction:
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    order = np.argsort(-p, kind="stable")
    second = int(order[1]) if len(order) > 1 else int(order[0])
    return Prediction(int(order[0]), float(p[order[0]]), tuple(float(v) for v in p), second,
                      float(p[second]) if len(order) > 1 else 0.0)


NONFINITE_HINT = "The model's weights or normalisation are damaged; use another model or train it again."
TINY_FRACTION = 0.1  # on a canvas, ink spanning less than this share of its side is too small to read


def input_doubt(pre: Preprocessed, pen_width: float | None = None, canvas_size: int | None = None,
                max_width: float = MAX_STROKE_WIDTH) -> str | None:
    """Why no prediction on this input deserves trust, whatever the softmax says, or None.

    Softmax classifiers are confident on anything; these checks compare the input with what the
    model was trained on (MNIST): "too small" (a dot or a tick on a canvas), "too thick" (strokes
    wider for the digit's size than MNIST's widest), "too much ink" (a scribble or a filled
    shape). pen_width (drawing canvas units) gives the exact stroke width; without it it is
    estimated from the image. max_width: the widest stroke not doubted (stroke_limit of the model)."""
    if canvas_size and pre.extent < TINY_FRACTION * canvas_size:
        return "too small"
    if pre.overinked:
        return "too much ink"
    width = pen_width * pre.scale if pen_width else pre.stroke_width
    if width > max_width:
        return "too thick"
    return None


ADAPTED_WIDTH_MARGIN = 1.15  # the image estimate is within about 10% of the pen's width (preprocess)


def stroke_limit(ckpt) -> float:
    """The widest stroke (model pixels) not doubted for this model: MNIST's widest, or, for a model
    adapted to someone who writes with a thicker pen, the widest of the drawings it learned from
    (core/drawing/adapt.py stores it): their strokes are no longer unlike what the model has seen."""
    info = getattr(ckpt, "info", None)
    widest = info.get("widest_stroke") if isinstance(info, dict) else None
    if isinstance(widest, (int, float)) and not isinstance(widest, bool) and math.isfinite(widest):
        return max(MAX_STROKE_WIDTH, min(float(widest) * ADAPTED_WIDTH_MARGIN, 2 * MAX_STROKE_WIDTH))
    return MAX_STROKE_WIDTH


NOT_A_DIGIT = ("not a digit", "too much ink")  # doubts that say the input is no digit (a dash, a scribble, a blot)


@dataclass(frozen=True)
class Verdict:
    """What to show for one input: the prediction and, when the input is unlike the digits the
    model learned from, why (when it is no digit at all, no confidence figure goes next to it)."""

    prediction: Prediction
    doubt: str | None = None  # input_doubt's or non_digits.shape_doubt's reason

    @property
    def unsure(self) -> bool:
        return self.doubt is not None or self.prediction.unsure

    @property
    def rated(self) -> bool:
        """Whether a confidence figure may be shown: not for an input that is no digit at all."""
        return self.doubt not in NOT_A_DIGIT


def judge(pre: Preprocessed, probabilities, pen_width: float | None = None, canvas_size: int | None = None,
          strokes=None, max_width: float = MAX_STROKE_WIDTH) -> Verdict:
    """The one rule for "unsure", used by the pad and `lstm-desktop classify` alike: a doubtful input
    (input_doubt, then shape_doubt: a dash; a scribble when the strokes are known and the model is not
    near certain: a shaky digit is read at 0.99 and more), else a top
    probability under UNSURE_BELOW. max_width: stroke_limit of the model that gave the probabilities."""
    from lstm_desktop.core.drawing.non_digits import shape_doubt

    prediction = interpret(probabilities)
    doubt = (input_doubt(pre, pen_width, canvas_size, max_width)
             or shape_doubt(pre.bbox, strokes, prediction.confidence))
    return Verdict(prediction, doubt)


@dataclass(frozen=True)
class FileResult:
    file: str
    prediction: Prediction | None = None
    error: str | None = None
    hint: str = ""
    inverted: bool = False
    doubt: str | None = None  # see input_doubt

    @property
    def ok(self) -> bool:
        return self.prediction is not None

    def to_json(self) -> dict:
        if self.prediction is None:
            return {"file": self.file, "error": self.error, "hint": self.hint}
        p = self.prediction
        return {"file": self.file, "digit": p.digit, "confidence": round(p.confidence, 6),
                "probabilities": [round(v, 6) for v in p.probabilities], "unsure": self.unsure,
                "doubt": self.doubt, "polarity": "dark-on-light" if self.inverted else "light-on-dark"}

    @property
    def unsure(self) -> bool:
        return self.prediction is None or self.prediction.unsure or self.doubt is not None

    def to_text(self) -> str:
        if self.prediction is None:
            return f"{self.file}: error: {self.error}"
        p = self.prediction
        if self.doubt in NOT_A_DIGIT:  # no confidence figure next to "no digit" (the pad shows none either)
            return f"{self.file}: {p.digit}?  unsure: it does not look like a digit ({self.doubt})"
        text = f"{self.file}: {p.digit}  ({p.confidence * 100:.1f}%)"
        if self.doubt:
            text += f"  unsure: {self.doubt} to be a digit like the training ones"
        elif p.unsure:
            text += f"  unsure, or {p.runner_up} ({p.runner_up_confidence * 100:.1f}%)"
        return text


def model_input_problem(ckpt) -> str | None:
    """Why this checkpoint cannot classify 28x28 images, or None when it can."""
    spec = ckpt.spec
    if spec.seq_len != SIZE or spec.input_size != SIZE:
        dataset = ckpt.config.dataset if ckpt.config else "another dataset"
        return (f"this model reads {spec.seq_len}x{spec.input_size} images (trained on {dataset}); "
                f"drawings and image files need a model trained on 28x28 images (MNIST)")
    if spec.num_classes != 10:
        return f"this model has {spec.num_classes} classes, not the 10 digits"
    return None


def load_classifier(model_path: str | None):
    """The checkpoint for classifying: model_path, else the shipped model. CheckpointError if none."""
    from lstm_desktop.core.models.checkpoint import load_checkpoint
    from lstm_desktop.core.files.resources import shipped_model_path

    if model_path is None:
        path = shipped_model_path()
        if not path.is_file():
            raise CheckpointError(f"No model: the model shipped with the app ({path}) is missing.",
                                  "Train one (lstm-desktop train --out model.pt) and pass --model model.pt.")
    else:
        path = Path(model_path)
    ckpt = load_checkpoint(path)
    problem = model_input_problem(ckpt)
    if problem:
        raise CheckpointError(f"{path.name}: {problem}.", "Pass a model trained on MNIST with --model.")
    ckpt.model.cpu().eval()
    return ckpt


def _prepare(path: str) -> tuple[Preprocessed | None, FileResult | None]:
    from lstm_desktop.core.drawing.images import load_image

    try:
        pixels = load_image(path)
    except ImageError as exc:
        return None, FileResult(path, error=exc.message, hint=exc.hint)
    try:
        pre = preprocess(pixels)
    except (ValueError, MemoryError) as exc:  # pragma: no cover - load_image already bounds the input
        return None, FileResult(path, error=f"{path}: cannot be preprocessed ({exc}).", hint="")
    if pre is None:
        return None, FileResult(path, error=f"{path}: no ink found (the image is blank or uniform).",
                                hint="Use an image with a digit on a plain background.")
    return pre, None


def classify_files(paths: Iterable[str], ckpt, batch_size: int = BATCH_SIZE) -> Iterator[FileResult]:
    """One FileResult per path, in order; the model runs on batches of up to batch_size images."""
    from lstm_desktop.core.drawing.inference import predict_probabilities
    from lstm_desktop.core.drawing.preprocess import to_model_input

    pending: list[tuple[str, Preprocessed | None, FileResult | None]] = []
    widest = stroke_limit(ckpt)

    def flush() -> Iterator[FileResult]:
        images = [pre.image for _, pre, _ in pending if pre is not None]
        probs = iter(())
        if images:
            batch = to_model_input(np.stack(images), ckpt.mean, ckpt.std)
            probs = iter(predict_probabilities(ckpt.model, batch))
        for path, pre, failed in pending:
            if pre is None:
                yield failed  # type: ignore[misc]
            else:
                p = np.asarray(next(probs), dtype=np.float64)
                if p.size == 0 or not np.all(np.isfinite(p)):  # never "digit 0, confidence NaN"
                    yield FileResult(path, error=f"{path}: the model gave no valid probabilities (NaN or "
                                     f"infinite) for this image.", hint=NONFINITE_HINT)
                    continue
                verdict = judge(pre, p, max_width=widest)
                yield FileResult(path, verdict.prediction, inverted=pre.inverted, doubt=verdict.doubt)
        pending.clear()

    ready = 0
    for path in paths:
        pre, failed = _prepare(str(path))
        pending.append((str(path), pre, failed))
        ready += pre is not None
        if ready >= batch_size:
            yield from flush()
            ready = 0
    yield from flush()


def classify_command(images: Sequence[str], model_path: str | None, as_json: bool,
                     out: TextIO | None = None, err: TextIO | None = None,
                     batch_size: int = BATCH_SIZE) -> int:
    """`lstm-desktop classify`: 0 if every image was classified, 1 if some failed, 2 if no model."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        ckpt = load_classifier(model_path)
    except CheckpointError as exc:
        err.write(f"lstm-desktop classify: error: {exc.message}\n")
        if exc.hint:
            err.write(f"  {exc.hint}\n")
        return 2
    try:
        return _write_results(images, ckpt, as_json, out, err, batch_size)
    except BrokenPipeError:  # `classify ... | head -1`: the reader left; stop quietly, say nothing more
        from lstm_desktop.core.files.oserrors import silence_stream

        silence_stream(out)
        return 1


def _write_results(images: Sequence[str], ckpt, as_json: bool, out: TextIO, err: TextIO, batch_size: int) -> int:
    failures = 0
    count = 0
    for result in classify_files(images, ckpt, batch_size):
        count += 1
        if as_json:
            out.write(json.dumps(result.to_json(), allow_nan=False) + "\n")
        elif result.ok:
            out.write(result.to_text() + "\n")
        else:
            hint = f" {result.hint}" if result.hint else ""
            err.write(f"lstm-desktop classify: error: {result.error}{hint}\n")
        if not result.ok:
            failures += 1
        if count % batch_size == 0:
            out.flush()
    out.flush()
    err.flush()
    return 1 if failures else 0
