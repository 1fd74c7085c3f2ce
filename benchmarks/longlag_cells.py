"""The long-lag lab's figure: LSTM vs GRU vs tanh RNN on the temporal order problem, with the defaults.

Each run is what `lstm-desktop train --dataset temporal-order --cell CELL --seed S` does
(session.run_training with TrainConfig.for_dataset("temporal-order", cell=CELL, seed=S)); the
wall time counts everything from the call to the test score (data generation, training,
validation, gradient-flow probes, test). Printed per run and per cell (mean, min-max):

- test accuracy (2,000 fixed sequences, the same for every run; chance is 25%);
- wall seconds and the fit's samples/s;
- the gradient-flow probe's share of training (each measurement timed during the run, over the
  epochs' training seconds; pixel-mnist: one measurement timed after, times the epoch's count);
- gradient flow after the first epoch: mean dLoss/dh_t over the first relevant symbol's window
  (t in [10, 20] at length 100) divided by its value at the last step, from the probe's
  measurement at the end of epoch 1 (core.gradient_flow, 32 fixed validation sequences).

With --pixel-mnist it instead times the LSTM on pixel-mnist (784 steps): --batches real optimiser
steps through the engine's fast path on the real data, reporting samples/s and the implied time per
epoch (55,000 training images).

The machine's load average is printed: on a shared machine every wall-clock figure is inflated.

    python benchmarks/longlag_cells.py [--cells lstm gru rnn] [--seeds 0 1 2] [--json out.json]
    python benchmarks/longlag_cells.py --pixel-mnist [--batches 30] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_desktop.core.training.config import TrainConfig  # noqa: E402
from lstm_desktop.core.training.events import Callback, EpochEnded, GradientFlowMeasured  # noqa: E402
from lstm_desktop.core.data.longlag import relevant_windows  # noqa: E402


class FirstEpochFlow(Callback):
    """Keeps the last gradient-flow measurement of epoch 1 and prints each epoch's line."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.norms: tuple[float, ...] | None = None

    def on_gradient_flow(self, event: GradientFlowMeasured) -> None:
        if event.epoch == 0:
            self.norms = event.norms

    def on_epoch_end(self, event: EpochEnded) -> None:
        print(f"  {self.label} epoch {event.epoch + 1}/{event.epochs}: val {event.val_accuracy:.3f} "
              f"({event.seconds:.1f} s)", flush=True)


def flow_ratio(norms: tuple[float, ...] | None, seq_len: int) -> float:
    if not norms:
        return float("nan")
    (a, b), _ = relevant_windows(seq_len)
    window = norms[a:b + 1]
    return (sum(window) / len(window)) / norms[-1] if norms[-1] > 0 else float("nan")


def run_one(cell: str, seed: int) -> dict:
    from lstm_desktop.core.training.session import run_training

    config = TrainConfig.for_dataset("temporal-order", cell=cell, seed=seed)
    flow = FirstEpochFlow(f"{cell} seed {seed}")
    start = time.perf_counter()
    with ProbeTimer() as probe:
        outcome = run_training(config, [flow])
    wall = time.perf_counter() - start
    summary = outcome.summary()
    share = probe.seconds / max(sum(outcome.fit.history["seconds"]), 1e-9)  # of the epochs' training time
    return {"cell": cell, "seed": seed, "accuracy": summary["accuracy"], "wall_seconds": round(wall, 1),
            "fit_seconds": summary["seconds"], "samples_per_second": summary["train_samples_per_second"],
            "epochs": summary["epochs"], "hidden": config.hidden, "lr": config.lr,
            "flow_ratio_epoch1": flow_ratio(flow.norms, config.seq_len), "gradient_flow_share": round(share, 4)}


def cells_benchmark(cells: list[str], seeds: list[int]) -> list[dict]:
    rows = []
    for cell in cells:
        for seed in seeds:
            row = run_one(cell, seed)
            rows.append(row)
            print(f"{cell} seed {seed}: test {row['accuracy']:.4f}  wall {row['wall_seconds']:.1f} s  "
                  f"fit {row['fit_seconds']:.1f} s  {row['samples_per_second']:.0f} samples/s  "
                  f"flow ratio (epoch 1) {row['flow_ratio_epoch1']:.2e}  probe {100 * row['gradient_flow_share']:.1f}%  "
                  f"load {os.getloadavg()[0]:.1f}",
                  flush=True)
    print("\ncell  test accuracy mean (min-max)   wall s mean (max)   flow ratio epoch 1 (median)")
    for cell in cells:
        mine = [r for r in rows if r["cell"] == cell]
        acc = [r["accuracy"] for r in mine]
        wall = [r["wall_seconds"] for r in mine]
        ratio = statistics.median(r["flow_ratio_epoch1"] for r in mine)
        print(f"{cell:4s}  {statistics.mean(acc):.4f} ({min(acc):.4f}-{max(acc):.4f})"
              f"           {statistics.mean(wall):6.1f} ({max(wall):.1f})        {ratio:.2e}")
    return rows


def pixel_mnist_benchmark(batches: int, data_dir: str | None) -> dict:
    import torch

    from lstm_desktop.core.training.control import TrainingControl
    from lstm_desktop.core.data.catalog import load_bundle
    from lstm_desktop.core.training.engine import Trainer
    from lstm_desktop.core.models.gradient_flow import GradientFlowProbe

    config = TrainConfig.for_dataset("pixel-mnist", cell="lstm", data_dir=data_dir)
    data = load_bundle("pixel-mnist", data_dir, config.val_size, config.seed)
    control = TrainingControl()
    times: list[float] = []

    class Stopper(Callback):
        def on_batch_end(self, event) -> None:
            times.append(time.perf_counter())
            if len(times) > batches:
                control.stop()

    fit = Trainer(config, [Stopper()], control=control).fit(data)
    # the probe as training runs it: on 2 cores the split step leaves one thread to each part
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads // 2))
    flow = GradientFlowProbe.for_epoch(data.val_x, data.val_y, math.ceil(len(data.train_x) / config.batch_size))
    flow.measure(fit.model)  # warm-up
    start = time.perf_counter()
    flow.measure(fit.model)
    per_measurement = time.perf_counter() - start
    torch.set_num_threads(threads)
    steady = times[1:]  # the first batch warms up (kernel load, allocations)
    per_batch = (steady[-1] - steady[0]) / max(len(steady) - 1, 1)
    sps = config.batch_size / per_batch
    epoch = len(data.train_x) / sps
    epoch_batches = math.ceil(len(data.train_x) / config.batch_size)
    measurements = sum(flow.due(b, epoch_batches) for b in range(epoch_batches))
    probe_share = measurements * per_measurement / epoch
    row = {"dataset": "pixel-mnist", "cell": "lstm", "hidden": config.hidden, "batch_size": config.batch_size,
           "batches_timed": len(steady) - 1, "samples_per_second": round(sps, 1),
           "seconds_per_epoch": round(epoch, 1), "train_size": len(data.train_x),
           "gradient_flow_share": round(probe_share, 4)}
    print(f"pixel-mnist lstm (hidden {config.hidden}, batch {config.batch_size}): {sps:.1f} samples/s, "
          f"{epoch / 60:.1f} min per epoch of {len(data.train_x):,} ({len(steady) - 1} batches timed, "
          f"load {os.getloadavg()[0]:.1f}); gradient-flow probe {100 * probe_share:.2f}% of the epoch")
    return row


class ProbeTimer:
    """Times every gradient-flow measurement made during training (wraps GradientFlowProbe.measure)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __enter__(self) -> "ProbeTimer":
        from lstm_desktop.core.models.gradient_flow import GradientFlowProbe

        self._original = original = GradientFlowProbe.measure
        timer = self

        def timed(probe, model):
            start = time.perf_counter()
            try:
                return original(probe, model)
            finally:
                timer.seconds += time.perf_counter() - start
                timer.count += 1

        GradientFlowProbe.measure = timed
        return self

    def __exit__(self, *exc) -> None:
        from lstm_desktop.core.models.gradient_flow import GradientFlowProbe

        GradientFlowProbe.measure = self._original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--pixel-mnist", action="store_true")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    if args.pixel_mnist:
        rows = [pixel_mnist_benchmark(args.batches, args.data_dir)]
    else:
        rows = cells_benchmark(args.cells, args.seeds)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
