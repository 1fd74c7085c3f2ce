"""Training samples/s of the engine against the loop a competent user writes by hand, same run.

The hand-written side: MNIST loaded once into tensors (torchvision's files, download=False, scaled
and normalised as the notebook does), the same architecture as the engine's model written with
nn.LSTM (+ attention pooling) and nn.Linear, torch.optim.Adam(lr=1e-3), and per batch: index,
zero_grad, forward, cross_entropy, backward, step, loss.item(). No DataLoader. The engine side:
lstm_desktop.core.training.engine.Trainer on the same tensors (events emitted as usual). Rounds of a fixed
number of batches alternate, so machine noise hits both alike; the result is the median ratio.

Variants: the plain model (1x128, batch 64) and the shipped model's variant (BiLSTM 128 + attention,
batch 128). For the plain model it also reports the fraction of the FLOP limit the engine reaches:
the matrix-product FLOPs of a forward and backward per sample against a two-core sgemm measured here.

    python benchmarks/handwritten_vs_engine.py [--data-dir ../shared/data/mnist] [--batches 150] [--rounds 5]
                                               [--only plain|bilstm] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import DataBundle, mnist_bundle
from lstm_desktop.core.training.engine import Trainer

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"plain 1x128, batch 64": dict(hidden=128, bidirectional=False, attention=False, batch_size=64),
            "BiLSTM 128 + attention, batch 128": dict(hidden=128, bidirectional=True, attention=True,
                                                      batch_size=128)}


class HandWritten(nn.Module):
    """What a user writes: nn.LSTM, optional attention pooling over time, a linear head."""

    def __init__(self, hidden: int, bidirectional: bool, attention: bool) -> None:
        super().__init__()
        features = hidden * (2 if bidirectional else 1)
        self.bidirectional = bidirectional
        self.lstm = nn.LSTM(28, hidden, batch_first=True, bidirectional=bidirectional)
        self.attn = nn.Sequential(nn.Linear(features, features // 2), nn.Tanh(),
                                  nn.Linear(features // 2, 1, bias=False)) if attention else None
        self.fc = nn.Linear(features, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, (h_n, _) = self.lstm(x)
        if self.attn is not None:
            weights = torch.softmax(self.attn(out).squeeze(-1), dim=1)
            summary = (weights.unsqueeze(-1) * out).sum(1)
        elif self.bidirectional:
            summary = torch.cat([h_n[-2], h_n[-1]], dim=1)
        else:
            summary = out[:, -1]
        return self.fc(summary)


def load_tensors(data_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images once as (N, 28, 28) floats normalised like the notebook, and labels."""
    from torchvision import datasets

    train = datasets.MNIST(str(data_dir), train=True, download=False)
    return (train.data.float() / 255.0 - 0.5) / 0.5, train.targets.clone()


def handwritten_round(x: torch.Tensor, y: torch.Tensor, variant: dict, batches: int, seed: int) -> float:
    torch.manual_seed(seed)
    bs = variant["batch_size"]
    model = HandWritten(variant["hidden"], variant["bidirectional"], variant["attention"])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    perm = torch.randperm(len(x))
    start = time.perf_counter()
    for b in range(batches):
        idx = perm[b * bs:(b + 1) * bs]
        xb, yb = x[idx], y[idx]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        loss.item()
    return batches * bs / (time.perf_counter() - start)


def engine_round(bundle: DataBundle, variant: dict, batches: int, seed: int) -> float:
    n = batches * variant["batch_size"]
    perm = torch.randperm(len(bundle.train_x), generator=torch.Generator().manual_seed(seed))[:n]
    sub = DataBundle(bundle.name, bundle.train_x[perm], bundle.train_y[perm], bundle.val_x[:0],
                     bundle.val_y[:0], bundle.test_x[:0], bundle.test_y[:0])
    config = TrainConfig(epochs=1, val_size=0, seed=seed, lr=1e-3, **variant)
    result = Trainer(config).fit(sub)
    return result.train_samples_per_second


def plain_flops_per_sample(steps: int = 28, features: int = 28, hidden: int = 128, classes: int = 10) -> int:
    """Matrix-product FLOPs of one sample's forward and backward in the plain model (2 per
    multiply-add): x W_ih, h W_hh (T-1 steps; h0 = 0), the head; their weight gradients, and the
    recurrent dh; no input gradient (nothing needs it). The gate maths is not counted."""
    g = 4 * hidden
    forward = 2 * steps * features * g + 2 * (steps - 1) * hidden * g + 2 * hidden * classes
    backward = 2 * steps * features * g + 2 * 2 * (steps - 1) * hidden * g + 2 * 2 * hidden * classes
    return forward + backward


def sgemm_peak(threads: int, size: int = 1536, repeats: int = 6) -> float:
    """FLOP/s of a large float32 matrix product on `threads` threads, best of `repeats`."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * size ** 3 / (time.perf_counter() - start))
    torch.set_num_threads(before)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--batches", type=int, default=150, help="batches per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("plain", "bilstm"), default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads for both sides (default: all)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = Path(args.data_dir)
    if not (data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        print(f"skipped: MNIST not found under {data_dir} (torchvision layout, not downloaded here)")
        return 0
    x, y = load_tensors(data_dir)
    bundle = mnist_bundle(str(data_dir), val_size=0)
    threads = torch.get_num_threads()
    for name, variant in VARIANTS.items():
        if args.only and (args.only == "plain") != (not variant["bidirectional"]):
            continue
        handwritten_round(x, y, variant, 10, 0)  # warm-up both paths (and build the kernel)
        engine_round(bundle, variant, 10, 0)
        hand, engine = [], []
        for r in range(args.rounds):
            hand.append(handwritten_round(x, y, variant, args.batches, r))
            engine.append(engine_round(bundle, variant, args.batches, r))
            print(f"{name}, round {r + 1}: hand-written {hand[-1]:,.0f}  engine {engine[-1]:,.0f} samples/s  "
                  f"ratio {engine[-1] / hand[-1]:.2f}x", flush=True)
        ratio = statistics.median(e / h for e, h in zip(engine, hand))
        print(f"{name}: median hand-written {statistics.median(hand):,.0f}  engine {statistics.median(engine):,.0f} "
              f"samples/s  ratio {ratio:.2f}x  (threads={threads})", flush=True)
        if not variant["bidirectional"]:
            peak = sgemm_peak(threads)
            flops = plain_flops_per_sample() * statistics.median(engine)
            print(f"plain model: {plain_flops_per_sample() / 1e6:.1f} MFLOP a sample; engine {flops / 1e9:.1f} GFLOP/s "
                  f"of a {peak / 1e9:.1f} GFLOP/s {threads}-thread sgemm = {flops / peak:.0%} of the limit", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
