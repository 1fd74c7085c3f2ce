"""What augmentation costs in training throughput: the engine without augmentation, with --augment,
and with --augment --augment-shapes, same process, rounds alternating, reported as ratios.

Each round trains the same seeded subset of MNIST (`--batches` full batches) once per setting, in
turn, so machine noise hits all three alike; the figure is the median over rounds of plain / augmented
samples/s (1.00x: free). It also times augment_batch alone (ms a batch) on the same batches, which
separates the augmentation from how the step overlaps with it.

    PYTHONPATH=. python benchmarks/augment_cost.py [--data-dir ../shared/data/mnist] [--device cpu]
        [--variant bilstm|plain] [--batches 60] [--rounds 3] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstm_desktop.core.data.augment import HANDWRITING, PLAIN, augment_batch  # noqa: E402
from lstm_desktop.core.data.augment_ops import generator_for  # noqa: E402
from lstm_desktop.core.training.config import TrainConfig  # noqa: E402
from lstm_desktop.core.data.image_sets import DataBundle, mnist_bundle  # noqa: E402
from lstm_desktop.core.data.mnist_files import missing_mnist_files  # noqa: E402
from lstm_desktop.core.training.engine import Trainer  # noqa: E402

VARIANTS = {"plain": dict(hidden=128, batch_size=64),
            "bilstm": dict(hidden=128, bidirectional=True, attention=True, batch_size=128)}
SETTINGS = {"none": {}, "--augment": dict(augment=True),
            "--augment --augment-shapes": dict(augment=True, augment_shapes=True)}


def subset(bundle: DataBundle, n: int, seed: int) -> DataBundle:
    perm = torch.randperm(len(bundle.train_x), generator=torch.Generator().manual_seed(seed))[:n]
    return DataBundle(bundle.name, bundle.train_x[perm], bundle.train_y[perm], bundle.val_x[:0],
                      bundle.val_y[:0], bundle.test_x[:0], bundle.test_y[:0])


def fit_rate(sub: DataBundle, variant: dict, device: str, seed: int, **extra) -> float:
    """samples/s of one seeded epoch over the subset (training batches only, no validation)."""
    cfg = TrainConfig(epochs=1, val_size=0, seed=seed, lr=1e-3, device=device, **variant, **extra)
    return Trainer(cfg).fit(sub).train_samples_per_second


def augment_only_ms(x: torch.Tensor, y: torch.Tensor, bs: int, device: torch.device, shapes: bool,
                    per_call: int = 1) -> float:
    """Milliseconds a batch of bs of augment_batch alone, `per_call` batches a call (the engine's
    EpochAugmenter does many a call on a GPU), with a generator on the batch's device."""
    gen = generator_for(device, 0)
    x, y = x.to(device), y.to(device)
    settings = HANDWRITING if shapes else PLAIN
    n = bs * per_call
    calls = max(1, len(x) // n)
    augment_batch(x[:n], gen, settings, labels=y[:n])
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for c in range(calls):
        augment_batch(x[c * n:(c + 1) * n], gen, settings, labels=y[c * n:(c + 1) * n])
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / (calls * per_call) * 1000


def measure(bundle: DataBundle, variant: dict, device: str, batches: int, rounds: int,
            say=print) -> dict[str, float]:
    """Median plain/augmented ratios per setting; prints each round as it goes."""
    bs = variant["batch_size"]
    sub = subset(bundle, batches * bs, 0)
    fit_rate(subset(sub, 5 * bs, 1), variant, device, 0)  # warm-up (kernel build, step choice)
    rates: dict[str, list[float]] = {k: [] for k in SETTINGS}
    alone: dict[str, list[float]] = {k: [] for k in SETTINGS if k != "none"}
    dev = torch.device(device)
    for r in range(rounds):
        for name, extra in SETTINGS.items():
            rates[name].append(fit_rate(sub, variant, device, r, **extra))
            if name in alone:
                alone[name].append(augment_only_ms(sub.train_x, sub.train_y, bs, dev, shapes="shapes" in name))
        say(f"  round {r + 1}: " + "  ".join(f"{k} {v[-1]:,.0f}" for k, v in rates.items()) + " samples/s")
    ratios = {k: statistics.median(p / a for p, a in zip(rates["none"], v)) for k, v in rates.items() if k != "none"}
    ms = {k: statistics.median(v) for k, v in alone.items()}
    say("  median samples/s: " + "  ".join(f"{k} {statistics.median(v):,.0f}" for k, v in rates.items()))
    say("  augmentation costs: " + "  ".join(f"{k} {ratios[k]:.2f}x ({ms[k]:.2f} ms a batch of {bs} alone)"
                                               for k in ratios))
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variant", choices=tuple(VARIANTS), default="bilstm")
    parser.add_argument("--batches", type=int, default=60, help="full batches a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = Path(args.data_dir)
    if missing_mnist_files(data_dir):
        print(f"skipped: MNIST not found under {data_dir} (torchvision layout, not downloaded here)")
        return 0
    bundle = mnist_bundle(str(data_dir), val_size=0)
    print(f"{args.variant} {VARIANTS[args.variant]} on {args.device}, {torch.get_num_threads()} threads, "
          f"{args.batches} batches a round", flush=True)
    measure(bundle, VARIANTS[args.variant], args.device, args.batches, args.rounds,
            say=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
