"""One device check: what the engine does on this machine's GPU and cores, in one run, in minutes.

Installs nothing; needs torch (CUDA optional), numpy, scikit-learn, Pillow, tqdm, pytest; PySide6 may
be absent. Run from the checkout: `PYTHONPATH=. python benchmarks/device_check.py --data-dir DIR`
(DIR in torchvision's layout, `.gz` files are enough). Sections, each printed as it finishes:
  tests      the CUDA tests (graph step vs eager, devices, steps, engine)
  gpu        samples/s (and the share of the sgemm limit measured here that each side reaches, from
             flops_per_sample): a hand-written eager cuDNN loop (nn.LSTM, torch.optim.Adam, loss.item() per
             batch, 30 warm-up batches) against the engine (graph step, and its eager step with
             LSTM_DESKTOP_NO_CUDA_GRAPH=1), rounds alternating in this process; plain b64, plain b512,
             BiLSTM 128 + attention b128; and the same seed's accuracy with and without the graph
  augment    the shipped recipe's variant with and without --augment --augment-shapes (cost ratio), and
             augment_batch alone (one batch a call, and the engine's chunk a call); on CPU, on 4,096 images
  pixel      pixel-MNIST (784 steps) for one epoch on the GPU
  torchrun   a 1-process torchrun with nccl
  cpu        the CPU table at 4, 8 and all threads (hand-written loop vs engine)
  suite      tests/core and tests/cli with CUDA present (last: it may not fit the time)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from augment_cost import augment_only_ms  # noqa: E402
from handwritten_vs_engine import HandWritten, flops_per_sample, sgemm_peak  # noqa: E402

from lstm_desktop.core.data.augment import PLAIN, EpochAugmenter  # noqa: E402
from lstm_desktop.core.data.augment_ops import generator_for  # noqa: E402

from lstm_desktop.core.training.config import TrainConfig  # noqa: E402
from lstm_desktop.core.data.image_sets import DataBundle  # noqa: E402
from lstm_desktop.core.data.catalog import load_bundle  # noqa: E402
from lstm_desktop.core.training.engine import Trainer  # noqa: E402

GPU_VARIANTS = {"plain 1x128, batch 64": dict(hidden=128, batch_size=64),
                "plain 1x128, batch 512": dict(hidden=128, batch_size=512),
                "BiLSTM 128 + attention, batch 128": dict(hidden=128, bidirectional=True, attention=True,
                                                          batch_size=128),
                "BiLSTM 128 + attention, batch 64": dict(hidden=128, bidirectional=True, attention=True,
                                                         batch_size=64),
                "BiLSTM 128 + attention, batch 512": dict(hidden=128, bidirectional=True, attention=True,
                                                          batch_size=512)}
CPU_VARIANTS = {k: v for k, v in GPU_VARIANTS.items() if k.startswith(("plain 1x128, batch 64", "BiLSTM 128 + attention, batch 128"))}


def say(text: str) -> None:
    print(text, flush=True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def hand_round(x: torch.Tensor, y: torch.Tensor, variant: dict, batches: int, seed: int,
               device: torch.device, warmup: int = 30) -> float:
    """The loop a user writes: samples/s over `batches` timed batches after `warmup` batches."""
    torch.manual_seed(seed)
    bs = variant["batch_size"]
    model = HandWritten(variant["hidden"], variant.get("bidirectional", False),
                        variant.get("attention", False)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    perm = torch.randperm(len(x), device=x.device)
    start = 0.0
    for b in range(warmup + batches):
        if b == warmup:
            sync(device)
            start = time.perf_counter()
        idx = perm[(b * bs) % (len(x) - bs):][:bs]
        opt.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        loss.item()
    sync(device)
    return batches * bs / (time.perf_counter() - start)


def engine_round(bundle: DataBundle, variant: dict, seed: int, device: str, epochs: int = 2,
                 graph: bool = True, **extra) -> tuple[float, float]:
    """(samples/s of the last epoch, test-free validation accuracy) of Trainer.fit on the bundle."""
    os.environ["LSTM_DESKTOP_NO_CUDA_GRAPH"] = "" if graph else "1"
    cfg = TrainConfig(epochs=epochs, seed=seed, lr=1e-3, device=device, **variant, **extra)
    result = Trainer(cfg).fit(bundle)
    return result.history["samples_per_second"][-1], result.history["val_accuracy"][-1]


def table(bundle: DataBundle, variants: dict, device: torch.device, rounds: int, batches: int,
          eager_engine: bool) -> None:
    x, y = bundle.train_x.to(device), bundle.train_y.to(device)
    threads = torch.get_num_threads()
    peak = sgemm_peak(threads, size=4096 if device.type == "cuda" else 1536, repeats=20, device=device.type)
    where = "the GPU's" if device.type == "cuda" else f"a {threads}-thread"
    say(f"  sgemm limit: {peak / 1e9:,.0f} GFLOP/s ({where} float32 matrix product, measured now)")
    for name, variant in variants.items():
        hand, eng, eager = [], [], []
        for r in range(rounds):
            hand.append(hand_round(x, y, variant, batches, r, device))
            eng.append(engine_round(bundle, variant, r, str(device))[0])
            if eager_engine:
                eager.append(engine_round(bundle, variant, r, str(device), graph=False)[0])
        h, e = statistics.median(hand), statistics.median(eng)
        line = (f"  {name}: hand-written {h:,.0f}  engine {e:,.0f} samples/s  ratio "
                f"{statistics.median(a / b for a, b in zip(eng, hand)):.2f}x")
        if eager:
            line += f"  (engine without the graph {statistics.median(eager):,.0f}, graph gain {e / statistics.median(eager):.2f}x)"
        per = flops_per_sample(**variant)
        line += f"  [FLOP limit reached: hand-written {per * h / peak:.1%}, engine {per * e / peak:.1%}]"
        say(line + f"  rounds: hand {[round(v) for v in hand]} engine {[round(v) for v in eng]}")


def accuracy_with_and_without_the_graph(bundle: DataBundle) -> None:
    g = engine_round(bundle, dict(hidden=128, batch_size=64), 0, "cuda", epochs=3)[1]
    e = engine_round(bundle, dict(hidden=128, batch_size=64), 0, "cuda", epochs=3, graph=False)[1]
    say(f"  seed 0, plain b64, 3 epochs: validation accuracy with the graph {g:.4f}, without {e:.4f}")


def augmentation_cost(bundle: DataBundle, device: str) -> None:
    """The shipped recipe's variant with and without augmentation (whole epochs), and augment_batch
    alone: one batch a call and the engine's chunk a call (EpochAugmenter; a GPU only)."""
    v = GPU_VARIANTS["BiLSTM 128 + attention, batch 128"]
    epochs = 2 if device == "cuda" else 1
    plain = engine_round(bundle, v, 0, device, epochs=epochs)[0]
    light = engine_round(bundle, v, 0, device, epochs=epochs, augment=True)[0]
    aug = engine_round(bundle, v, 0, device, epochs=epochs, augment=True, augment_shapes=True)[0]
    say(f"  BiLSTM+attention b128 on {device}: no augmentation {plain:,.0f}; --augment {light:,.0f} ({plain / light:.2f}x);"
        f" --augment --augment-shapes {aug:,.0f} samples/s ({plain / aug:.2f}x)")
    x, y, dev = bundle.train_x[:8192], bundle.train_y[:8192], torch.device(device)
    per_call = EpochAugmenter(PLAIN, generator_for(dev, 0), dev, 128).per_call
    for shapes in (False, True):
        one = augment_only_ms(x, y, 128, dev, shapes)
        many = augment_only_ms(x, y, 128, dev, shapes, per_call) if per_call > 1 else one
        say(f"  augment_batch alone{' with shapes' if shapes else ''}: {one:.2f} ms a batch of 128 one a call,"
            f" {many:.2f} ms {per_call} a call (the engine's)")


def section(name: str, budget: float, started: float) -> bool:
    left = budget - (time.perf_counter() - started)
    say(f"\n== {name} ({left:.0f} s of the budget left)")
    return left > 20


def guarded(fn) -> None:
    """A section that breaks prints its error's last lines and the check goes on to the next one."""
    try:
        fn()
    except Exception:  # noqa: BLE001 - a report, not a program: every section must get its turn
        import traceback
        say("  FAILED: " + " | ".join(traceback.format_exc().strip().splitlines()[-6:]))


def run(cmd: list[str], timeout: float, env: dict | None = None) -> None:
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        tail = (done.stdout + done.stderr).strip().splitlines()[-12:]
        say("\n".join("  " + line for line in tail))
        say(f"  exit {done.returncode} in {time.perf_counter() - t0:.1f} s")
    except subprocess.TimeoutExpired:
        say(f"  stopped after {timeout:.0f} s (the check's time budget)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--budget", type=float, default=330.0, help="seconds for the whole check")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=300, help="timed hand-written batches a round")
    parser.add_argument("--train-size", type=int, default=0, help="use only this many training images (a quick try)")
    parser.add_argument("--only", default="tests,gpu,augment,pixel,torchrun,cpu,suite")
    args = parser.parse_args()
    only = set(args.only.split(","))
    started = time.perf_counter()
    os.environ.setdefault("LSTM_DESKTOP_HOME", "/tmp/lstm-desktop-device-check")
    cuda = torch.cuda.is_available()
    say(f"torch {torch.__version__}, CUDA {'yes: ' + torch.cuda.get_device_name(0) if cuda else 'no'}, "
        f"{os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads")
    bundle = load_bundle("mnist", args.data_dir, val_size=5000)
    if args.train_size:
        bundle = DataBundle(bundle.name, bundle.train_x[:args.train_size], bundle.train_y[:args.train_size],
                            bundle.val_x[:1000], bundle.val_y[:1000], bundle.test_x[:0], bundle.test_y[:0])
    py = sys.executable
    if cuda and "tests" in only and section("CUDA tests", args.budget, started):
        run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/core/test_cuda_graph_step.py",
             "tests/core/test_augment_device.py", "tests/core/test_steps.py", "tests/core/test_devices.py",
             "tests/core/test_engine.py"], 150)
    if cuda and "gpu" in only and section("GPU samples/s", args.budget, started):
        torch.backends.cuda.matmul.allow_tf32 = False
        guarded(lambda: table(bundle, GPU_VARIANTS, torch.device("cuda"), args.rounds, args.batches,
                              eager_engine=True))
        guarded(lambda: accuracy_with_and_without_the_graph(bundle))
    if "augment" in only and section("augmentation", args.budget, started):
        small = bundle if cuda or len(bundle.train_x) <= 4096 else DataBundle(  # CPU: 2 epochs of 55,000 is hours
            bundle.name, bundle.train_x[:4096], bundle.train_y[:4096], bundle.val_x[:500], bundle.val_y[:500],
            bundle.test_x[:0], bundle.test_y[:0])
        guarded(lambda: augmentation_cost(small, "cuda" if cuda else "cpu"))
    cli = [py, "-m", "lstm_desktop", "train", "--data-dir", args.data_dir, "--epochs", "1"]
    if cuda and "pixel" in only and section("pixel-MNIST, one epoch", args.budget, started):
        run(cli + ["--dataset", "pixel-mnist", "--device", "cuda"], 120)
    if cuda and "torchrun" in only and section("torchrun, 1 process, nccl", args.budget, started):
        run([py, "-m", "torch.distributed.run", "--nproc-per-node", "1", "-m", "lstm_desktop", "train",
             "--data-dir", args.data_dir, "--epochs", "1", "--device", "cuda"], 90)
    if "cpu" in only:
        for threads in sorted({4, 8, os.cpu_count() or 1}):
            if not section(f"CPU, {threads} threads", args.budget, started):
                break
            torch.set_num_threads(threads)
            guarded(lambda: table(bundle, CPU_VARIANTS, torch.device("cpu"), min(args.rounds, 2),
                                  min(args.batches, 100), eager_engine=False))
    if cuda and "suite" in only and section("tests/core tests/cli with CUDA present", args.budget, started):
        left = args.budget - (time.perf_counter() - started)
        run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "8", "tests/core", "tests/cli"], max(left, 30))
    say(f"\ndevice check done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
