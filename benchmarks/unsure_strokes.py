"""How often the pad says "unsure" on strokes that are not digits, and on digits.

Dashes, dots and scribbles (core.non_digits) and synthetic pen digits (core.synthetic_digits) go
through the pad's own path: render, preprocess, the shipped model, and the doubts (input_doubt,
shape_doubt, a top probability under UNSURE_BELOW). Goal (issue 15): >= 95% of non-digits unsure,
digits read as before.

    python benchmarks/unsure_strokes.py --n 900 --digits 2000
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def verdicts(items, model, mean, std, use_shape: bool):
    from lstm_desktop.core.drawing.classify import input_doubt, interpret
    from lstm_desktop.core.drawing.inference import predict_probabilities
    from lstm_desktop.core.drawing.non_digits import shape_doubt
    from lstm_desktop.core.drawing.preprocess import preprocess
    from lstm_desktop.core.drawing.strokes import CANVAS_SIZE, render_strokes

    pres = [preprocess(render_strokes(strokes), polarity="ink", mean=mean, std=std) for strokes in items]
    keep = [p for p in pres if p is not None]
    probs = predict_probabilities(model, np.stack([p.model_input for p in keep])) if keep else np.zeros((0, 10))
    out, k = [], 0
    for strokes, pre in zip(items, pres):
        if pre is None:
            out.append((True, None))
            continue
        pred = interpret(probs[k])
        k += 1
        pen = max(s.width for s in strokes)
        doubt = input_doubt(pre, pen, CANVAS_SIZE) or (shape_doubt(pre.bbox, strokes, pred.confidence)
                                                       if use_shape else None)
        out.append((doubt is not None or pred.unsure, pred.digit))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=900, help="non-digit strokes")
    parser.add_argument("--digits", type=int, default=2000)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from lstm_desktop.core.drawing.classify import load_classifier
    from lstm_desktop.core.drawing.non_digits import generate_non_digits
    from lstm_desktop.core.data.synthetic_digits import generate_digits

    ckpt = load_classifier(args.model)
    non = generate_non_digits(args.n, seed=11)
    digits = generate_digits(args.digits, seed=5)
    for use_shape in (False, True):
        v = verdicts([d.strokes for d in non], ckpt.model, ckpt.mean, ckpt.std, use_shape)
        by_kind = Counter(d.kind for d in non)
        unsure = Counter(d.kind for d, (u, _) in zip(non, v) if u)
        dv = verdicts([d.strokes for d in digits], ckpt.model, ckpt.mean, ckpt.std, use_shape)
        correct = sum(1 for d, (u, p) in zip(digits, dv) if p == d.label)
        sure_correct = sum(1 for d, (u, p) in zip(digits, dv) if p == d.label and not u)
        digit_unsure = sum(1 for u, _ in dv if u)
        label = "with the shape doubts" if use_shape else "without the shape doubts (before)"
        total = sum(unsure.values()) / max(1, len(non))
        kinds = ", ".join(f"{k} {unsure[k] / by_kind[k] * 100:.1f}%" for k in sorted(by_kind))
        print(f"{label}: non-digits shown unsure {total * 100:.1f}% ({kinds}); digits: accuracy "
              f"{correct / len(digits) * 100:.2f}%, unsure {digit_unsure / len(digits) * 100:.2f}%, "
              f"read confidently and right {sure_correct / len(digits) * 100:.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
