"""One MNIST epoch: N data-parallel CPU processes (torchrun, gloo) against 1 process, same global batch.

    python benchmarks/distributed_epoch.py [--data-dir /work/shared/data/mnist] [--nproc 2]

Both runs go through the real command line (`lstm-desktop train`), with the same seed, the same
global batch (--batch-size is global: 128 = 2 processes x 64) and the same total number of CPU
threads (1 process x --threads-single, N processes x --threads-per-proc). Reports training
throughput (the engine's samples/s, training steps only), the wall time of the whole command,
validation and test accuracy, and the ratio N-process / 1-process. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[dict, float]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    summary = json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])
    return summary, wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128, help="global batch, both runs")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads-single", type=int, default=2)
    p.add_argument("--threads-per-proc", type=int, default=1)
    p.add_argument("--timeout", type=float, default=1800)
    a = p.parse_args()

    from lstm_desktop.core.models.checkpoint import load_checkpoint

    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    common = ["train", "--dataset", "mnist", "--data-dir", a.data_dir, "--no-download", "--device", "cpu",
              "--epochs", str(a.epochs), "--batch-size", str(a.batch_size), "--hidden", str(a.hidden),
              "--seed", "0", "--quiet", "--json"]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            "1 process": ([sys.executable, "-m", "lstm_desktop", *common, "--threads", str(a.threads_single),
                           "--out", f"{tmp}/single.pt"], {**env, "OMP_NUM_THREADS": str(a.threads_single)}),
            f"{a.nproc} processes": ([sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
                                      "--nproc-per-node", str(a.nproc), "--master-addr", "127.0.0.1",
                                      "--master-port", str(_free_port()), "-m", "lstm_desktop", *common,
                                      "--threads", str(a.threads_per_proc), "--out", f"{tmp}/ddp.pt"],
                                     {**env, "OMP_NUM_THREADS": str(a.threads_per_proc)}),
        }
        for name, (cmd, run_env) in runs.items():
            print(f"running {name} ...", flush=True)
            summary, wall = _run(cmd, run_env, a.timeout)
            ckpt = load_checkpoint(summary["checkpoint"])
            rows[name] = {"samples_per_second": summary["train_samples_per_second"], "fit_seconds": summary["seconds"],
                          "wall_seconds": round(wall, 1), "train_loss": ckpt.history["train_loss"][-1],
                          "val_accuracy": ckpt.history["val_accuracy"][-1], "test_accuracy": summary["accuracy"],
                          "world_size": ckpt.info.get("world_size", 1)}

    base, ddp = rows["1 process"], rows[f"{a.nproc} processes"]
    print(f"\nMNIST, {a.epochs} epoch(s), hidden {a.hidden}, global batch {a.batch_size} "
          f"({a.nproc} x {a.batch_size // a.nproc}), {os.cpu_count()} CPUs, torch threads: "
          f"1 x {a.threads_single} vs {a.nproc} x {a.threads_per_proc}")
    print(f"{'run':<13}{'train samples/s':>16}{'fit s':>8}{'wall s':>8}{'train loss':>12}{'val acc':>9}{'test acc':>10}")
    for name, r in rows.items():
        print(f"{name:<13}{r['samples_per_second']:>16,.0f}{r['fit_seconds']:>8.1f}{r['wall_seconds']:>8.1f}"
              f"{r['train_loss']:>12.4f}{r['val_accuracy'] * 100:>8.2f}%{r['test_accuracy'] * 100:>9.2f}%")
    ratio = ddp["samples_per_second"] / base["samples_per_second"]
    print(f"throughput ratio {a.nproc} processes / 1 process: {ratio:.2f}x; "
          f"test accuracy difference {100 * (ddp['test_accuracy'] - base['test_accuracy']):+.2f} points")
    print(json.dumps({"runs": rows, "throughput_ratio": round(ratio, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
