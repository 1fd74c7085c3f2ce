"""Which maths should fit a 28x28 drawing to an 8x8 scikit-learn digits model? Measured, not guessed.

Small LSTMs are trained on the 8x8 digits (one per seed), then read MNIST test digits (the pad
preprocesses drawings into the same frame) made 8x8 by each candidate. The best candidate is what
core.inference.fit_input does; this script checks that it still is.

    python benchmarks/fit_input_maths.py [--data-dir ../shared/data/mnist] [--images 2000] [--seeds 3]

Measured on 2026-12-04 (3 seeds, 2,000 digits): digit box 20x20 area-resampled 0.470, 24x24 centre
in 3x3 blocks 0.306, whole 28x28 adaptive average pooling 0.173 (the digits models score 0.98 on
their own test set).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from lstm_desktop.core.data.image_sets import digits_bundle, normalize  # noqa: E402
from lstm_desktop.core.drawing.inference import fit_input  # noqa: E402
from lstm_desktop.core.data.mnist_files import read_mnist  # noqa: E402
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec  # noqa: E402


def _area_matrix(lo: int, hi: int) -> np.ndarray:
    """(8, 28): output pixel j is the mean of what rows lo..hi cover in [j, j+1) (exact areas)."""
    edges = np.linspace(lo, hi, 9)
    m = np.array([[max(0.0, min(edges[j + 1], k + 1) - max(edges[j], k)) for k in range(28)] for j in range(8)])
    return (m / m.sum(1, keepdims=True)).astype(np.float32)


def candidates() -> dict:
    box20 = _area_matrix(4, 24)
    return {
        "fit_input (the app)": lambda a: np.stack([fit_input(x, (8, 8)) for x in a]),
        "digit box 20x20, exact area": lambda a: np.einsum("jk,nkl,ml->njm", box20, a, box20),
        "24x24 centre, 3x3 blocks": lambda a: a[:, 2:26, 2:26].reshape(-1, 8, 3, 8, 3).mean(axis=(2, 4)),
        "whole 28x28, adaptive pool": lambda a: F.adaptive_avg_pool2d(torch.from_numpy(a)[:, None], (8, 8))[:, 0].numpy(),
    }


def train_digits_model(seed: int, bundle) -> LSTMClassifier:
    torch.manual_seed(seed)
    model = LSTMClassifier(ModelSpec(input_size=8, seq_len=8, hidden=64))
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    for _ in range(40):
        perm = torch.randperm(len(bundle.train_x))
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(bundle.train_x[idx]), bundle.train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    arrays = read_mnist(Path(args.data_dir))
    images = normalize(arrays["t10k-images-idx3-ubyte"][:args.images].astype(np.float32) / 255.0)
    labels = arrays["t10k-labels-idx1-ubyte"][:args.images]
    bundle = digits_bundle()
    scores: dict[str, list[float]] = {name: [] for name in candidates()}
    for seed in range(args.seeds):
        model = train_digits_model(seed, bundle)
        with torch.no_grad():
            own = float((model(bundle.test_x).argmax(1) == bundle.test_y).float().mean())
            print(f"seed {seed}: digits test accuracy {own:.3f}")
            for name, fit in candidates().items():
                x = torch.from_numpy(np.ascontiguousarray(fit(images), dtype=np.float32))
                scores[name].append(float((model(x).argmax(1).numpy() == labels).mean()))
    for name, values in scores.items():
        print(f"{name:30s} MNIST -> 8x8 accuracy {np.mean(values):.3f}  (per seed {np.round(values, 3).tolist()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
