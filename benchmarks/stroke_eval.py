"""Accuracy on synthetic pen strokes, through the app's own pad renderer and preprocessing.

Generates N digits (default 5000, fixed seed) per template set from
lstm_desktop.core.data.synthetic_digits: several pen trajectory styles per digit, varied in pen width,
size, aspect, slant, rotation, position, wobble, jitter and stroke speed. Two sets by default:

  classic   the original styles (35)
  failure   the shapes real writers produce that the shipped model misread (core.digit_templates:
            9 with a stem curving back left or a small/open loop, one-stroke open-top 4 and 4
            whose strokes do not meet, 7 with a crossbar or a curved stem, 1 with a long flag;
            the other digits use their classic styles)
  hard      every style (classic and failure) by harder hands (core.synthetic_digits.
            sample_hard_variation): hairline to marker pens, tiny to huge, strong slants, fast
            strokes, shaky hands (tremor and jitter), reversed stroke order
 Each is rendered by the renderer the drawing pad uses for the model
(core.strokes.StrokeRaster, on the pad's 280x280 canvas) and scored by a checkpoint twice on the
same strokes:

  app       core.preprocess.preprocess (MNIST recipe: crop, 20 px box, centre of mass)
  textbook  the whole canvas resized to 28x28, no cropping or centring (the usual tutorial code)

Prints, per set, accuracy overall, per digit, per variation bucket (thin/thick, small/large, slanted, fast,
shaky, reversed), per template style, the most frequent confusions, and how well "unsure" (the pad's
rule, core.classify.judge) separates wrong answers from right ones. --mnist DIR adds the MNIST test set. With --via-pad K, the first K digits are
also drawn with mouse events on the real PadPanel (offscreen Qt) and its shown predictions are
checked against the headless ones.

    python benchmarks/stroke_eval.py [--model CHECKPOINT] [--n 5000] [--seed 0] [--sets classic,failure,hard]
                                     [--mnist ../shared/data/mnist] [--via-pad 50] [--json FILE]

This is the project's own evaluation; the real one with human pen trajectories is kept outside
the project. The templates are meant to be plausible, not to flatter a model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_desktop.core.models.checkpoint import load_checkpoint  # noqa: E402
from lstm_desktop.core.drawing.classify import UNSURE_BELOW, judge, stroke_limit  # noqa: E402
from lstm_desktop.core.drawing.inference import predict_probabilities  # noqa: E402
from lstm_desktop.core.drawing.preprocess import preprocess, textbook_preprocess  # noqa: E402
from lstm_desktop.core.files.resources import shipped_model_path  # noqa: E402
from lstm_desktop.core.drawing.strokes import CANVAS_SIZE, StrokeRaster  # noqa: E402
from lstm_desktop.core.data.synthetic_digits import generate_digits  # noqa: E402
from lstm_desktop.core.data.digit_templates import TEMPLATE_SETS  # noqa: E402

SETS = (*TEMPLATE_SETS, "hard")


def unsure_rates(unsure: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """(share of wrong answers flagged unsure, share of right answers flagged unsure), in %."""
    wrong = float(unsure[~correct].mean()) * 100 if (~correct).any() else float("nan")
    right = float(unsure[correct].mean()) * 100 if correct.any() else float("nan")
    return wrong, right


def _mnist(folder: str, ckpt, model) -> dict:
    """The MNIST test set: accuracy, per digit, and the unsure rates (a top probability under
    UNSURE_BELOW; the shape checks need strokes, the input checks are for drawings)."""
    from lstm_desktop.core.data.image_sets import load_mnist_tensors

    _, _, x, y = load_mnist_tensors(Path(folder))
    inputs = list(((x.float() / 255.0 - ckpt.mean) / ckpt.std).numpy())
    probs = _probabilities(model, inputs)
    labels = y.numpy()
    ok = probs.argmax(1) == labels
    wrong, right = unsure_rates(probs.max(1) < UNSURE_BELOW, ok)
    print(f"\n=== MNIST test ({len(labels)} images): accuracy {ok.mean() * 100:.2f}%; unsure flags "
          f"{wrong:.1f}% of the wrong answers and {right:.2f}% of the right ones")
    per_digit = {str(k): round(float(ok[labels == k].mean()) * 100, 2) for k in range(10)}
    return {"set": "mnist", "n": int(len(labels)), "app_accuracy": round(float(ok.mean()) * 100, 2),
            "per_digit": per_digit, "unsure_wrong": round(wrong, 2), "unsure_right": round(right, 2)}


def _probabilities(model, inputs: list[np.ndarray], batch: int = 256) -> np.ndarray:
    out = [predict_probabilities(model, np.stack(inputs[i:i + batch])) for i in range(0, len(inputs), batch)]
    return np.concatenate(out) if out else np.zeros((0, 10), dtype=np.float32)


def _acc(mask: np.ndarray, correct: np.ndarray) -> str:
    n = int(mask.sum())
    return f"{correct[mask].mean() * 100:6.2f}%  (n={n})" if n else "   n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--via-pad", type=int, default=0, metavar="K",
                    help="also draw the first K digits with mouse events on the real pad (Qt, offscreen)")
    ap.add_argument("--top-confusions", type=int, default=12)
    ap.add_argument("--sets", default="classic,failure,hard",
                    help=f"comma-separated sets among {', '.join(SETS)} (default classic,failure,hard)")
    ap.add_argument("--mnist", default=None, metavar="DIR", help="also score the MNIST test set found in DIR")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write per-set, per-digit accuracy as JSON")
    args = ap.parse_args(argv)
    sets = [x.strip() for x in args.sets.split(",") if x.strip()]
    unknown = [x for x in sets if x not in SETS]
    if unknown or not sets:
        ap.error(f"unknown set(s) {', '.join(unknown) or '(none)'}; choose among {', '.join(SETS)}")

    import torch

    torch.set_num_threads(args.threads)
    path = Path(args.model) if args.model else shipped_model_path()
    if not path.is_file():
        print(f"no model at {path}: train one (lstm-desktop train --out model.pt) and pass --model",
              file=sys.stderr)
        return 2
    ckpt = load_checkpoint(path)
    model = ckpt.model.cpu().eval()
    print(f"model: {path} ({ckpt.spec.hidden} hidden, {ckpt.spec.layers} layer(s)"
          f"{', bidirectional' if ckpt.spec.bidirectional else ''}{', attention' if ckpt.spec.attention else ''}; "
          f"trained on {ckpt.config.dataset if ckpt.config else '?'}"
          f"{' with augmentation' if ckpt.config and ckpt.config.augment else ''}"
          f"{f', test accuracy {ckpt.metrics.accuracy * 100:.2f}%' if ckpt.metrics else ''})")

    summaries = []
    for i, templates in enumerate(sets):
        summary, digits, app_pred = _evaluate_set(args, ckpt, model, templates)
        summaries.append(summary)
        if i == 0:
            first = (digits, app_pred)
    if args.mnist:
        summaries.append(_mnist(args.mnist, ckpt, model))
    if len(summaries) > 1:
        print("\nper digit, app preprocessing, by set")
        print("  digit " + "".join(f"{x['set']:>12}" for x in summaries))
        for k in range(10):
            print(f"  {k:<6}" + "".join(f"{x['per_digit'][str(k)]:>11.2f}%" for x in summaries))
        print("  all   " + "".join(f"{x['app_accuracy']:>11.2f}%" for x in summaries))
        print("unsure flags, of the wrong answers / of the right ones")
        print("  wrong " + "".join(f"{x['unsure_wrong']:>11.1f}%" for x in summaries))
        print("  right " + "".join(f"{x['unsure_right']:>11.2f}%" for x in summaries))
    if args.json:
        Path(args.json).write_text(json.dumps({"model": str(path), "sets": summaries}, indent=1) + "\n")
    if args.via_pad:
        digits, app_pred = first
        return _via_pad(ckpt, digits[:args.via_pad], app_pred[:args.via_pad])
    return 0


def _evaluate_set(args, ckpt, model, templates: str) -> tuple[dict, list, np.ndarray]:
    """Render, preprocess, score and print one template set; returns (summary, digits, app_pred)."""
    t0 = time.perf_counter()
    hard = templates == "hard"
    digits = generate_digits(args.n, seed=args.seed, templates="all" if hard else templates, hard=hard)
    raster = StrokeRaster()
    app_in, base_in, labels, pres, empty = [], [], [], [], 0
    blank = np.full((28, 28), -ckpt.mean / ckpt.std, np.float32)
    for d in digits:
        img = raster.render(d.strokes)
        pre = preprocess(img, polarity="ink", mean=ckpt.mean, std=ckpt.std)
        if pre is None:
            empty += 1
        pres.append(pre)
        app_in.append(pre.model_input if pre is not None else blank)
        base_in.append(textbook_preprocess(img, polarity="ink", mean=ckpt.mean, std=ckpt.std))
        labels.append(d.label)
    t1 = time.perf_counter()
    labels_a = np.asarray(labels)
    app_probs = _probabilities(model, app_in)
    app_pred = app_probs.argmax(1)
    base_pred = _probabilities(model, base_in).argmax(1)
    t2 = time.perf_counter()
    print(f"\n=== template set '{templates}': {args.n} digits (seed {args.seed}): rendered + preprocessed in {t1 - t0:.1f} s "
          f"({(t1 - t0) / max(args.n, 1) * 1000:.2f} ms each), scored in {t2 - t1:.1f} s"
          + (f"; {empty} rendered empty" if empty else ""))

    app_ok = app_pred == labels_a
    base_ok = base_pred == labels_a
    print(f"\n{'':22}{'app preprocessing':>24}{'textbook resize':>24}")
    print(f"{'overall':22}{_acc(np.ones_like(app_ok), app_ok):>24}{_acc(np.ones_like(base_ok), base_ok):>24}")
    print("\nper digit")
    for k in range(10):
        m = labels_a == k
        print(f"  {k:<20}{_acc(m, app_ok):>24}{_acc(m, base_ok):>24}")
    print("\nper variation bucket")
    tags = [set(d.tags) for d in digits]
    for tag in ("thin", "thick", "small", "large", "slanted", "fast", "shaky", "reversed"):
        m = np.array([tag in t for t in tags])
        print(f"  {tag:<20}{_acc(m, app_ok):>24}{_acc(m, base_ok):>24}")
    m = np.array([not t for t in tags])
    print(f"  {'none of these':<20}{_acc(m, app_ok):>24}{_acc(m, base_ok):>24}")
    print("\nper template style (app preprocessing)")
    styles = np.array([f"{d.label} {d.style}" for d in digits])
    for s in sorted(set(styles)):
        m = styles == s
        print(f"  {s:<20}{_acc(m, app_ok):>24}")
    for name, pred in (("app preprocessing", app_pred), ("textbook resize", base_pred)):
        pairs = Counter((int(t), int(p)) for t, p in zip(labels_a, pred) if t != p)
        top = ", ".join(f"{t}->{p} x{c}" for (t, p), c in pairs.most_common(args.top_confusions))
        print(f"\nconfusions, {name} (true->predicted): {top or 'none'}")

    widest = stroke_limit(ckpt)
    verdicts = [judge(pre, p, max(x.width for x in d.strokes), CANVAS_SIZE, d.strokes, widest) if pre is not None else None
                for d, pre, p in zip(digits, pres, app_probs)]
    doubts = [v.doubt if v is not None else "empty" for v in verdicts]
    unsure = np.array([v is None or v.unsure for v in verdicts])
    reasons = Counter(d for d in doubts if d)
    print(f"\nthe pad would show 'unsure' for {unsure.mean() * 100:.1f}% of them "
          f"(confidence under {UNSURE_BELOW:.0%}: {(app_probs.max(1) < UNSURE_BELOW).sum()}, "
          + ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) + ")")
    wrong, right = unsure_rates(unsure, app_ok)
    print(f"unsure flags {wrong:.1f}% of the wrong answers and {right:.2f}% of the right ones; accuracy when "
          f"not unsure {_acc(~unsure, app_ok).strip()}, when unsure {_acc(unsure, app_ok).strip()}")

    per_digit = {str(k): round(float(app_ok[labels_a == k].mean()) * 100, 2) for k in range(10)}
    summary = {"set": templates, "n": args.n, "seed": args.seed, "app_accuracy": round(float(app_ok.mean()) * 100, 2),
               "textbook_accuracy": round(float(base_ok.mean()) * 100, 2), "per_digit": per_digit,
               "unsure_wrong": round(wrong, 2), "unsure_right": round(right, 2)}
    return summary, digits, app_pred


def _via_pad(ckpt, digits, headless_pred: np.ndarray) -> int:
    """Replay digits as mouse strokes on the real PadPanel; compare its shown digit."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from lstm_desktop.ui.pad_panel import PadPanel
    from lstm_desktop.testing import replay_strokes

    app = QApplication.instance() or QApplication([])
    panel = PadPanel()
    panel.resize(900, 600)
    panel.show()
    app.processEvents()
    panel.set_model(ckpt, "stroke eval")
    same = 0
    for d, expected in zip(digits, headless_pred):
        panel.clear()
        panel.set_pen_width(d.strokes[0].width)
        replay_strokes(panel.pad, d.strokes)
        panel.settle(5000)  # the answer comes from the pad's worker thread
        same += int(panel.prediction is not None and panel.prediction.digit == int(expected))
    print(f"\nvia the real pad (mouse events, offscreen): {same}/{len(digits)} predictions identical "
          "to the headless run")
    panel.close()
    return 0 if same == len(digits) else 1


if __name__ == "__main__":
    raise SystemExit(main())
