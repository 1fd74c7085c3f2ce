"""Every CPU step candidate timed on the real shapes (issue 29: the kernel on many cores with small
batches): the C kernel in N parts of one core each, the kernel with MKL threads inside its parts,
the torch split and serial steps. The candidates take turns (core/steps/step_choice.time_candidates),
so load on a shared machine slows them alike; ms a batch and the ratio to the best, per shape.

    python benchmarks/kernel_threads.py [--threads 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec  # noqa: E402
from lstm_desktop.core.steps import fast_path, native_kernel, step_choice  # noqa: E402
from lstm_desktop.core.training.config import TrainConfig  # noqa: E402
from lstm_desktop.core.training.optim import make_optimizer  # noqa: E402

SHAPES = {  # name: (model spec changes, batch size)
    "plain 1x128, batch 64": (dict(), 64),
    "plain 1x128, batch 512": (dict(), 512),
    "BiLSTM 128 + attention, batch 128": (dict(bidirectional=True, attention=True), 128),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    step_choice.ROUNDS = args.rounds
    kernel = native_kernel.load_kernel()
    print(f"{args.threads} threads, kernel {'loaded' if kernel else 'unavailable'}, torch {torch.__version__}")
    for name, (changes, batch) in SHAPES.items():
        spec = ModelSpec(input_size=28, seq_len=28, hidden=128, num_classes=10, **changes)
        torch.manual_seed(0)
        model = LSTMClassifier(spec)
        cfg = TrainConfig(lr=1e-3, batch_size=batch, device="cpu")
        options = fast_path.candidates(model, args.threads, batch, kernel is not None)
        x, y = torch.randn(batch, 28, 28), torch.randint(0, 10, (batch,))
        best, seconds = step_choice.fastest(options, model, lambda m: make_optimizer(m, cfg, torch.device("cpu")),
                                            lambda c, m, o: fast_path.build(c, m, m, o, cfg, kernel), x, y)
        low = min(seconds.values())
        print(f"\n{name}  (best: {best.name})")
        for c in sorted(options, key=lambda c: seconds[c.key()]):
            s = seconds[c.key()]
            print(f"  {c.name:45s} {1000 * s:8.2f} ms  {batch / s:9,.0f} samples/s  x{s / low:.2f}")


if __name__ == "__main__":
    main()
