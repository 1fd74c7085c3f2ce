"""Training samples/s of the lstm-desktop engine against the seed notebook's own pipeline.

Both run in this process at the notebook's config (plain LSTM, 128 units, batch 64, Adam 1e-3),
alternating, so machine noise hits both alike; the result is the ratio engine / notebook, and the
fraction of the FLOP limit the engine reaches (handwritten_vs_engine.py counts the FLOPs).
The notebook side is rebuilt exactly as the notebook describes it: torchvision MNIST with
ToTensor + Normalize((0.5,), (0.5,)), DataLoader(batch_size=64, shuffle=True), its MNISTLSTM with
explicit zero h0/c0, images.view(B, 28, 28), zero_grad / forward / backward / step / loss.item().

    python benchmarks/throughput_vs_notebook.py [--data-dir ../shared/data/mnist] [--batches 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.data.image_sets import DataBundle, mnist_bundle
from lstm_desktop.core.training.engine import Trainer
from lstm_desktop.core.training.events import BatchEnded

sys.path.insert(0, str(Path(__file__).resolve().parent))
from handwritten_vs_engine import plain_flops_per_sample, sgemm_peak  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class MNISTLSTM(nn.Module):  # the notebook's model, verbatim in behaviour
    def __init__(self, input_size: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        h0 = torch.zeros(1, x.size(0), self.hidden_size).to(x.device)
        c0 = torch.zeros(1, x.size(0), self.hidden_size).to(x.device)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


def notebook_round(data_dir: Path, batches: int) -> float:
    """Samples/s of the notebook's loop over `batches` batches (DataLoader included)."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    trainset = datasets.MNIST(str(data_dir), download=False, train=True, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=64, shuffle=True)
    model = MNISTLSTM(28, 128, 10)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    running_loss, seen = 0.0, 0
    start = time.perf_counter()
    for i, (images, labels) in enumerate(trainloader):
        images = images.view(images.shape[0], 28, 28)
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        seen += len(images)
        if i + 1 == batches:
            break
    return seen / (time.perf_counter() - start)


def engine_round(bundle: DataBundle, batches: int) -> float:
    """Samples/s of the engine's training loop over `batches` batches (events emitted as usual)."""
    n = batches * 64
    sub = DataBundle(bundle.name, bundle.train_x[:n], bundle.train_y[:n], bundle.val_x[:0],
                     bundle.val_y[:0], bundle.test_x[:0], bundle.test_y[:0])
    seen = {"n": 0}

    def on_event(event) -> None:
        if isinstance(event, BatchEnded):
            seen["n"] += 1

    config = TrainConfig(epochs=1, val_size=0)
    result = Trainer(config, [on_event], TrainingControl()).fit(sub)
    assert seen["n"] == batches
    return result.train_samples_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--batches", type=int, default=400, help="batches per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bundle = mnist_bundle(args.data_dir, val_size=5000)
    engine_round(bundle, 20)  # warm-up both paths
    notebook_round(Path(args.data_dir), 20)
    nb, en = [], []
    for r in range(args.rounds):
        nb.append(notebook_round(Path(args.data_dir), args.batches))
        en.append(engine_round(bundle, args.batches))
        print(f"round {r + 1}: notebook {nb[-1]:,.0f} samples/s   engine {en[-1]:,.0f} samples/s   "
              f"ratio {en[-1] / nb[-1]:.2f}x", flush=True)
    ratios = [e / n for e, n in zip(en, nb)]
    print(f"median: notebook {statistics.median(nb):,.0f}  engine {statistics.median(en):,.0f}  "
          f"ratio {statistics.median(ratios):.2f}x  (threads={torch.get_num_threads()})")
    threads = torch.get_num_threads()
    peak, flops = sgemm_peak(threads), plain_flops_per_sample() * statistics.median(en)
    print(f"engine {flops / 1e9:.1f} GFLOP/s of matrix products ({plain_flops_per_sample() / 1e6:.1f} MFLOP a sample) "
          f"against a {peak / 1e9:.1f} GFLOP/s {threads}-thread sgemm: {flops / peak:.0%} of the limit")


if __name__ == "__main__":
    main()
