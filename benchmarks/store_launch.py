"""Run store launch time: open the store and list its runs, with 1,000 stored runs vs an empty store.

Builds a store of --runs synthetic runs with realistic contents (an MNIST-like run: 5 epochs of 938
batch losses, epoch curves, a probe and a 28-step gradient flow per epoch, test metrics with
per-class scores and a confusion matrix, varied configs, tags, notes), written through the same
API the recorder uses (one transaction per epoch). Then, for that store and for an empty one, the
same measurement:

  in-process   open_store() + list_runs() with a fresh connection, --repeats times (median, max;
               wall time, and this process's CPU time, which a loaded machine does not inflate)
  cold         a fresh `python` that imports the store, opens it and lists (import time included)

and one stored run's curves read back (what opening a run in the window costs).

    python benchmarks/store_launch.py [--runs 1000] [--repeats 15] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_desktop.core.training.config import TrainConfig  # noqa: E402
from lstm_desktop.core.training.metrics import ClassMetrics, Metrics  # noqa: E402
from lstm_desktop.core.runs.store import open_store  # noqa: E402

COLD = """
import sys, time
t = time.perf_counter()
from lstm_desktop.core.runs.store import open_store
t_import = time.perf_counter()
store = open_store(sys.argv[1])
runs = store.list_runs()
t_end = time.perf_counter()
print(len(runs), round((t_import - t) * 1000, 1), round((t_end - t_import) * 1000, 1))
"""


def synthetic_run(store, rng: random.Random, epochs: int, batches: int) -> None:
    dataset = rng.choice(["mnist", "mnist", "digits", "synthetic", "pixel-mnist"])
    config = TrainConfig.for_dataset(dataset, hidden=rng.choice([32, 64, 128, 256]), epochs=epochs,
                                     cell=rng.choice(["lstm", "gru", "rnn"]), lr=rng.choice([1e-3, 3e-3, 1e-2]),
                                     seed=rng.randrange(1000), bidirectional=rng.random() < 0.3)
    run = store.create_run(config, source=rng.choice(["window", "cli", "torchrun"]), device="cpu",
                           torch_version="2.14.1", host="bench", machine="Linux x86_64", parameters=85_002)
    loss = 2.3
    for epoch in range(epochs):
        xs = [epoch + (b + 1) / batches for b in range(batches)]
        losses = []
        for _ in range(batches):
            loss = max(0.02, loss * 0.9995 + rng.gauss(0, 0.05))
            losses.append(loss)
        acc = min(0.99, 0.85 + 0.03 * epoch + rng.random() * 0.01)
        chunk = {"batch_x": xs, "batch_loss": losses, "epoch": [epoch + 1.0], "train_loss": [loss],
                 "train_accuracy": [acc], "val_loss": [loss * 1.1], "val_accuracy": [acc - 0.01],
                 "lr": [config.lr], "seconds": [11.0], "samples_per_second": [5000.0],
                 "probe": [(epoch + 1.0, [0.1] * 10)],
                 "gradient_flow": [(epoch + 1.0, [rng.random() for _ in range(28)])]}
        store.append_curves(run.id, chunk, epochs_done=epoch + 1, checkpoint_path=store.run_dir(run.id) / "model.pt")
    acc = 0.95 + rng.random() * 0.04
    per = [ClassMetrics(i, acc, acc, acc, 1000) for i in range(10)]
    confusion = [[980 if i == j else rng.randrange(5) for j in range(10)] for i in range(10)]
    store.update(run.id, status="finished", ended=run.created, seconds=55.0, tags=["bench", dataset],
                 notes="synthetic run for the launch benchmark",
                 metrics=Metrics(acc, acc, acc, acc, per, confusion, 10_000))


def build(home: Path, runs: int, epochs: int, batches: int) -> float:
    store = open_store(home)
    rng = random.Random(0)
    start = time.perf_counter()
    for i in range(runs):
        synthetic_run(store, rng, epochs, batches)
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} runs written ({time.perf_counter() - start:.0f} s)", flush=True)
    store.close()
    return time.perf_counter() - start


def measure(home: Path, repeats: int) -> dict:
    opens, lists, cpus, count = [], [], [], 0
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        store = open_store(home)
        t1 = time.perf_counter()
        count = len(store.list_runs())
        t2, c2 = time.perf_counter(), time.process_time()
        store.close()
        opens.append((t1 - t0) * 1000)
        lists.append((t2 - t1) * 1000)
        cpus.append((c2 - c0) * 1000)
    totals = [a + b for a, b in zip(opens, lists)]
    cold = subprocess.run([sys.executable, "-c", COLD, str(home)], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()
    return {"runs": count, "open_ms": statistics.median(opens), "list_ms": statistics.median(lists),
            "total_ms": statistics.median(totals), "total_max_ms": max(totals),
            "cpu_ms": statistics.median(cpus),
            "cold_import_ms": float(cold[1]), "cold_open_list_ms": float(cold[2])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batches", type=int, default=938, help="batch losses per epoch (MNIST at batch 64: 938)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--home", default=None, help="keep the filled store here (default: a temporary folder)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        full = Path(args.home) if args.home else Path(tmp) / "full"
        empty = Path(tmp) / "empty"
        if not (full / "runs.sqlite").exists():
            print(f"writing {args.runs} synthetic runs to {full} ...", flush=True)
            seconds = build(full, args.runs, args.epochs, args.batches)
            print(f"  written in {seconds:.1f} s ({seconds / max(args.runs, 1) * 1000:.1f} ms per run)")
        size_mb = (full / "runs.sqlite").stat().st_size / 1e6
        results = {"empty": measure(empty, args.repeats), "full": measure(full, args.repeats)}
        store = open_store(full)
        first = store.list_runs()[0].id
        t = time.perf_counter()
        curves = store.get_curves(first)
        curve_ms = (time.perf_counter() - t) * 1000
        store.close()
    print(f"\nstore of {results['full']['runs']} runs: {size_mb:.1f} MB; one run's curves "
          f"({len(curves['batch_loss'])} batch points) read in {curve_ms:.1f} ms")
    print(f"{'store':<7} {'runs':>5} {'open ms':>8} {'list ms':>8} {'total ms':>9} {'max ms':>7} "
          f"{'cpu ms':>7} {'cold: import ms':>15} {'open+list ms':>12}")
    for name, r in results.items():
        print(f"{name:<7} {r['runs']:>5} {r['open_ms']:>8.1f} {r['list_ms']:>8.1f} {r['total_ms']:>9.1f} "
              f"{r['total_max_ms']:>7.1f} {r['cpu_ms']:>7.1f} {r['cold_import_ms']:>15.1f} {r['cold_open_list_ms']:>12.1f}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average while measuring: {load:.1f} on {os.cpu_count()} CPUs")
    print(json.dumps({"load": round(load, 1), "size_mb": round(size_mb, 1), "curves_ms": round(curve_ms, 1), **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
