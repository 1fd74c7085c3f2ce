"""Does training on pen digits help with handwriting styles it never saw? A held-out-styles check.

The stroke evaluation draws from the same templates the training pen digits use (`--pen-digits`),
so its figures for a model trained with them are flattering. This splits every digit's styles in
two (sorted names; even positions train, odd positions are held out: e.g. 7 'bar' trains, 7
'bar-curved' does not) and trains the same recipe twice, seed for seed:

  mnist only    MNIST (augmented, handwriting shapes), no pen digits
  + pen digits  the same, plus N pen digits drawn only in the training half's styles

Both are scored on digits drawn in the held-out styles, in the training styles (new draws), and
on the MNIST test set. If the second model reads the held-out styles better, the pen digits
teach handwriting, not just the templates.

    python benchmarks/pen_styles_holdout.py --data-dir ../shared/data/mnist [--epochs 6] [--pen 20000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_desktop.core.data.digit_templates import ALL_TEMPLATES  # noqa: E402
from lstm_desktop.core.data.image_sets import mnist_bundle  # noqa: E402
from lstm_desktop.core.data.pen_digits import render_pen_digits, with_training_images  # noqa: E402
from lstm_desktop.core.drawing.inference import predict_probabilities  # noqa: E402
from lstm_desktop.core.training.config import TrainConfig  # noqa: E402
from lstm_desktop.core.training.session import run_training  # noqa: E402


def split_styles() -> tuple[dict, dict]:
    """(training half, held-out half) of every digit's styles."""
    train, held = {}, {}
    for k, styles in ALL_TEMPLATES.items():
        names = sorted(styles)
        train[k] = {n: styles[n] for n in names[0::2]}
        held[k] = {n: styles[n] for n in names[1::2]} or dict(train[k])
    return train, held


def score(model, images: np.ndarray, labels: np.ndarray, mean: float, std: float) -> tuple[float, dict]:
    probs = np.concatenate([predict_probabilities(model, (images[i:i + 512] - mean) / std)
                            for i in range(0, len(images), 512)])
    ok = probs.argmax(1) == labels
    return float(ok.mean()) * 100, {k: round(float(ok[labels == k].mean()) * 100, 1) for k in range(10)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--pen", type=int, default=20000, help="pen digits added to the second model's training")
    ap.add_argument("--n-eval", type=int, default=3000)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    train_styles, held_styles = split_styles()
    print("held-out styles:", {k: sorted(v) for k, v in held_styles.items()})
    t = time.perf_counter()
    pen_x, pen_y = render_pen_digits(args.pen, np.random.default_rng([0, 424242]), 1 / 3, train_styles)
    evals = {name: render_pen_digits(args.n_eval, np.random.default_rng([1, 515151]), 1 / 3, styles)
             for name, styles in (("held-out styles", held_styles), ("training styles", train_styles))}
    print(f"drew {args.pen + 2 * args.n_eval} digits in {time.perf_counter() - t:.0f} s")

    cfg = TrainConfig(dataset="mnist", data_dir=args.data_dir, bidirectional=True, attention=True, hidden=128,
                      batch_size=128, lr=3e-3, lr_schedule="onecycle", augment=True, augment_shapes=True,
                      epochs=args.epochs, grad_clip=5.0, seed=0, device="cpu")
    base = mnist_bundle(args.data_dir, cfg.val_size, cfg.seed)
    with_pen = with_training_images(base, torch.from_numpy(pen_x), torch.from_numpy(pen_y))
    results = {}
    for name, data in (("mnist only", base), ("+ pen digits", with_pen)):
        t = time.perf_counter()
        out = run_training(cfg, data=data)
        model = out.fit.model.cpu().eval()
        row = {"mnist test": round(out.metrics.accuracy * 100, 2), "train_seconds": round(time.perf_counter() - t)}
        for set_name, (x, y) in evals.items():
            acc, per_digit = score(model, x, y, 0.5, 0.5)
            row[set_name] = round(acc, 2)
            row[f"{set_name} by digit"] = per_digit
        results[name] = row
        print(f"{name:14s} " + "  ".join(f"{k} {v}" for k, v in row.items() if "by digit" not in k), flush=True)
        for set_name in evals:
            print(f"    {set_name} by digit: {row[f'{set_name} by digit']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
