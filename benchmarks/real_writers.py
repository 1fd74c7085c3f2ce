"""Real handwriting the project can score offline: scikit-learn's digits, 43 writers who are not MNIST's.

`sklearn.datasets.load_digits` ships 1,797 digits from the UCI optical-digits set, written by 43
people on forms and reduced to 8x8 counts of ink. They are coarse, but they are real people's
shapes and none of them is in MNIST or in the pen-digit templates, so this is the one
evaluation here that no training choice can flatter. Each digit is scaled up (bicubic, 64x64)
and goes through the app's own preprocessing (`core.drawing.preprocess`, as a drawing's ink),
then each model reads all of them.

    python benchmarks/real_writers.py [--model A.pt --model B.pt]   (default: the shipped model)
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_desktop.core.drawing.inference import predict_probabilities  # noqa: E402
from lstm_desktop.core.drawing.preprocess import preprocess  # noqa: E402
from lstm_desktop.core.files.resources import shipped_model_path  # noqa: E402
from lstm_desktop.core.models.checkpoint import load_checkpoint  # noqa: E402


def real_digits() -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) preprocessed ink in [0, 1] and labels."""
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    images = []
    for im in d.images:
        big = Image.fromarray((im / 16.0 * 255.0).astype(np.uint8)).resize((64, 64), Image.BICUBIC)
        images.append(preprocess(np.asarray(big, np.float32) / 255.0, polarity="ink").image)
    return np.stack(images), d.target.astype(np.int64)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=None, help="checkpoint (repeat to compare)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    images, labels = real_digits()
    for path in args.model or [str(shipped_model_path())]:
        ckpt = load_checkpoint(path)
        probs = predict_probabilities(ckpt.model.cpu().eval(), (images - ckpt.mean) / ckpt.std)
        pred = probs.argmax(1)
        ok = pred == labels
        by_digit = {k: round(float(ok[labels == k].mean()) * 100, 1) for k in range(10)}
        confusions = Counter((int(t), int(p)) for t, p in zip(labels[~ok], pred[~ok])).most_common(5)
        print(f"{path}: {ok.mean() * 100:.2f}% of {len(labels)} ({int((~ok).sum())} wrong)")
        print(f"  by digit: {by_digit}")
        print("  most confused (true -> read): " + ", ".join(f"{t}->{p} ({n})" for (t, p), n in confusions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
