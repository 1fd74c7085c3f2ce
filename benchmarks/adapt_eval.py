"""Does "Adapt to my handwriting" work? Synthetic writers, before and after, and what MNIST loses.

Each writer (core.synthetic_digits.make_writer) has a fixed style per digit (about half of them
failure shapes: hooked 9s, open 4s, barred 7s, flagged 1s...) and a fixed hand (pen width, size,
slant, speed), with small changes between drawings. For each writer: K drawings of each digit
(default 3, so 30) are given to core.adapt.adapt_model, and accuracy is measured on 20 other
drawings of each digit by the same writer, through the pad's renderer and preprocessing, before
and after. Then the MNIST test accuracy of the adapted models (the first --mnist-writers of them)
against the base model's.

With --hard, the writers have the harder hands of the stroke evaluation's hard set (shaky, reversed
stroke order, hairline to marker pens, strong slants, tiny to huge). Printed too: accuracy by digit
before and after (all writers together), how many of the wrong and of the right answers "unsure"
flags before and after (the pad's and classify's one rule, core.classify.judge), and how many of the drawings given are still misread after
adapting (the ones a user corrected must be read right; core.adapt repairs them or says so).

    python benchmarks/adapt_eval.py [--model CHECKPOINT] [--writers 10] [--per-digit 3] [--hard]
        [--train all|head] [--l2sp 0.01] [--distill 1.0] [--replay-ce 0.5] [--replay synthetic|mnist]
        [--epochs 40] [--no-prototypes] [--mnist-writers 3] [--data-dir ../shared/data/mnist] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_desktop.core.drawing.adapt import AdaptSettings, adapt_model  # noqa: E402
from lstm_desktop.core.models.checkpoint import load_checkpoint  # noqa: E402
from lstm_desktop.core.drawing.classify import judge, stroke_limit  # noqa: E402
from lstm_desktop.core.drawing.inference import predict_probabilities  # noqa: E402
from lstm_desktop.core.drawing.preprocess import preprocess, to_model_input  # noqa: E402
from lstm_desktop.core.files.resources import shipped_model_path  # noqa: E402
from lstm_desktop.core.drawing.strokes import CANVAS_SIZE, StrokeRaster  # noqa: E402
from lstm_desktop.core.data.synthetic_digits import make_writer  # noqa: E402


def _images(digits, keep: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Model-ready images and labels; keep (a list) receives (digit, Preprocessed) for judge()."""
    raster = StrokeRaster()
    out, labels = [], []
    for d in digits:
        pre = preprocess(raster.render(d.strokes), polarity="ink")
        out.append(pre.image if pre is not None else np.zeros((28, 28), np.float32))
        labels.append(d.label)
        if keep is not None:
            keep.append((d, pre))
    return np.stack(out), np.asarray(labels)


def _unsure(ckpt, images: np.ndarray, labels: np.ndarray, kept: list) -> tuple[np.ndarray, np.ndarray]:
    """(read right, shown unsure) per drawing, by the pad's and classify's one rule (classify.judge)."""
    probs = predict_probabilities(ckpt.model, to_model_input(images, ckpt.mean, ckpt.std))
    widest = stroke_limit(ckpt)
    flags = np.array([pre is None or judge(pre, p, max(s.width for s in d.strokes), CANVAS_SIZE, d.strokes,
                                           widest).unsure for (d, pre), p in zip(kept, probs)])
    return probs.argmax(1) == labels, flags


def _accuracy(model, images: np.ndarray, labels: np.ndarray, mean: float, std: float) -> float:
    probs = np.concatenate([predict_probabilities(model, to_model_input(images[i:i + 500], mean, std))
                            for i in range(0, len(images), 500)])
    return float((probs.argmax(1) == labels).mean())


def _by_digit(model, images: np.ndarray, labels: np.ndarray, ckpt) -> list[float]:
    return [_accuracy(model, images[labels == k], labels[labels == k], ckpt.mean, ckpt.std) for k in range(10)]


def _mnist_test(data_dir: str | None):
    from lstm_desktop.core.data.image_sets import load_mnist_tensors, resolve_data_dir
    from lstm_desktop.core.data.mnist_files import missing_mnist_files

    root = resolve_data_dir(data_dir)
    if missing_mnist_files(root):
        return None
    _, _, x, y = load_mnist_tensors(root)
    return (x.float() / 255.0).numpy(), y.numpy()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--writers", type=int, default=10)
    ap.add_argument("--first-writer", type=int, default=0)
    ap.add_argument("--per-digit", type=int, default=3)
    ap.add_argument("--test-per-digit", type=int, default=20)
    ap.add_argument("--failure-share", type=float, default=0.7)
    ap.add_argument("--hard", action="store_true", help="writers with the hard set's hands")
    ap.add_argument("--train", choices=["all", "head"], default=AdaptSettings.train)
    ap.add_argument("--l2sp", type=float, default=AdaptSettings.l2sp)
    ap.add_argument("--distill", type=float, default=AdaptSettings.distill)
    ap.add_argument("--replay-ce", type=float, default=AdaptSettings.replay_ce)
    ap.add_argument("--replay", choices=["synthetic", "mnist"], default=AdaptSettings.replay)
    ap.add_argument("--replay-batch", type=int, default=AdaptSettings.replay_batch)
    ap.add_argument("--lr", type=float, default=AdaptSettings.lr)
    ap.add_argument("--epochs", type=int, default=AdaptSettings.epochs)
    ap.add_argument("--no-prototypes", action="store_true", help="the fine-tune alone (no remembered drawings)")
    ap.add_argument("--mnist-writers", type=int, default=3, help="adapted models scored on MNIST test (0: none)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--json", default=None, metavar="FILE")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    path = Path(args.model) if args.model else shipped_model_path()
    base = load_checkpoint(path)
    settings = replace(AdaptSettings(), train=args.train, l2sp=args.l2sp, distill=args.distill,
                       replay_ce=args.replay_ce, replay=args.replay, lr=args.lr, epochs=args.epochs,
                       replay_batch=args.replay_batch, prototypes=not args.no_prototypes)
    print(f"model {path}; settings {settings}")
    mnist = _mnist_test(args.data_dir) if args.mnist_writers else None
    base_mnist = _accuracy(base.model, *mnist, base.mean, base.std) if mnist is not None else None
    rows = []
    for w in range(args.first_writer, args.first_writer + args.writers):
        writer = make_writer(w, args.failure_share, hard=args.hard)
        train_x, train_y = _images(writer.digits(args.per_digit, seed=1))
        kept: list = []
        test_x, test_y = _images(writer.digits(args.test_per_digit, seed=2), kept)
        before = _accuracy(base.model, test_x, test_y, base.mean, base.std)
        result = adapt_model(base, train_x, train_y, settings, data_dir=args.data_dir)
        after = _accuracy(result.checkpoint.model, test_x, test_y, base.mean, base.std)
        given = _accuracy(result.checkpoint.model, train_x, train_y, base.mean, base.std)
        row = {"writer": w, "styles": {str(k): s for k, s in writer.styles.items()}, "before": before,
               "after": after, "seconds": result.seconds, "steps": result.steps, "examples": result.examples,
               "given_misread": int(round((1 - given) * len(train_y))),
               "before_by_digit": _by_digit(base.model, test_x, test_y, base),
               "after_by_digit": _by_digit(result.checkpoint.model, test_x, test_y, base)}
        for when, ckpt in (("before", base), ("after", result.checkpoint)):
            ok, flagged = _unsure(ckpt, test_x, test_y, kept)
            row[f"unsure_{when}"] = {"wrong": int((~ok).sum()), "wrong_flagged": int((flagged & ~ok).sum()),
                                     "right": int(ok.sum()), "right_flagged": int((flagged & ok).sum())}
        if mnist is not None and len(rows) < args.mnist_writers:
            row["mnist"] = _accuracy(result.checkpoint.model, *mnist, base.mean, base.std)
        rows.append(row)
        wrong = [f"{k}:{s}" for k, s in writer.styles.items()
                 if _accuracy(base.model, test_x[test_y == k], test_y[test_y == k], base.mean, base.std) < 0.9]
        print(f"writer {w:3d}: before {before * 100:6.2f}%  after {after * 100:6.2f}%  "
              f"{result.seconds:5.2f} s ({result.steps} steps, {result.examples} drawings)"
              + (f"  MNIST {row['mnist'] * 100:.2f}%" if "mnist" in row else "")
              + (f"  {row['given_misread']} given still misread" if row["given_misread"] else "")
              + (f"  hard for the base: {', '.join(wrong)}" if wrong else ""), flush=True)
    b = np.array([r["before"] for r in rows])
    a = np.array([r["after"] for r in rows])
    s = np.array([r["seconds"] for r in rows])
    print(f"\n{len(rows)} writers, {args.per_digit} drawings per digit each: before mean {b.mean() * 100:.2f}% "
          f"(min {b.min() * 100:.2f}%), after mean {a.mean() * 100:.2f}% (min {a.min() * 100:.2f}%); "
          f"writers at >= 99% after: {(a >= 0.99).sum()}/{len(rows)}; seconds median {np.median(s):.2f}, max {s.max():.2f}")
    print("by digit, all writers (before -> after): " + ", ".join(
        f"{k} {np.mean([r['before_by_digit'][k] for r in rows]) * 100:.1f}->"
        f"{np.mean([r['after_by_digit'][k] for r in rows]) * 100:.1f}" for k in range(10)))
    print(f"drawings given and still misread after adapting: {sum(r['given_misread'] for r in rows)} of "
          f"{sum(r['examples'] for r in rows)} (writers with any: {sum(1 for r in rows if r['given_misread'])})")
    for when in ("before", "after"):
        u = {k: sum(r[f"unsure_{when}"][k] for r in rows) for k in ("wrong", "wrong_flagged", "right", "right_flagged")}
        print(f"unsure {when} adapting: flags {u['wrong_flagged']} of {u['wrong']} wrong answers "
              f"({u['wrong_flagged'] / max(u['wrong'], 1) * 100:.1f}%) and {u['right_flagged']} of {u['right']} right "
              f"ones ({u['right_flagged'] / max(u['right'], 1) * 100:.2f}%)")
    m = [r["mnist"] for r in rows if "mnist" in r]
    if m and base_mnist is not None:
        print(f"MNIST test: base {base_mnist * 100:.2f}%, adapted {', '.join(f'{x * 100:.2f}%' for x in m)} "
              f"(largest drop {(base_mnist - min(m)) * 100:.2f} pt)")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": str(path), "settings": repr(settings), "base_mnist": base_mnist,
                                               "writers": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
