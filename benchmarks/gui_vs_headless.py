"""Training inside the app (worker thread, live plots, window shown offscreen) vs headless run_training.

One run of this script measures, each in a fresh child process so that start-up and peak memory are
those of that mode alone:

  * headless: core.session.run_training at the notebook's configuration;
  * gui: the same configuration started from the main window, with the worker and the live plots
    running, while a 10 ms QTimer on the GUI thread records how late it fires (event-loop lag);
  * launch: `lstm-desktop` (cli.main with no arguments) until the window's first paint, and until
    the start-up loading (torch) is done.

and reports GUI throughput / headless throughput (target >= 0.95), event-loop lag p99 (<= 30 ms)
and max (<= 100 ms), the GUI process's peak RSS (<= 2 GB) and launch-to-shown (<= 1.5 s).

    python benchmarks/gui_vs_headless.py                     # 5 epochs of full MNIST
    python benchmarks/gui_vs_headless.py --epochs 1 --limit-batches 200
    python benchmarks/gui_vs_headless.py --dataset digits --epochs 2   # quick check, no MNIST needed
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist"
TARGETS = {"throughput_ratio": 0.95, "lag_p99_ms": 30.0, "lag_max_ms": 100.0, "peak_rss_mb": 2048.0,
           "launch_to_shown_s": 1.5}


# ------------------------------------------------------------------------------------------ helpers
def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def make_config(args):
    from lstm_desktop.core.training.config import TrainConfig

    return TrainConfig(dataset=args.dataset, data_dir=str(args.data_dir) if args.dataset == "mnist" else None,
                       epochs=args.epochs, device=args.device, seed=args.seed)


class BatchLimiter:
    """A core callback that stops the run after `limit` batches (0: no limit) and counts samples."""

    def __init__(self, control, limit: int) -> None:
        self.control, self.limit, self.batches = control, limit, 0

    def __call__(self, event) -> None:
        from lstm_desktop.core.training.events import BatchEnded

        if isinstance(event, BatchEnded):
            self.batches += 1
            if self.limit and self.batches >= self.limit:
                self.control.stop()


def emit(result: dict) -> None:
    print("RESULT " + json.dumps(result), flush=True)


# ------------------------------------------------------------------------------------------ children
def child_headless(args) -> None:
    from lstm_desktop.core.training.control import TrainingControl
    from lstm_desktop.core.training.session import run_training

    control = TrainingControl()
    limiter = BatchLimiter(control, args.limit_batches)
    started = time.perf_counter()
    outcome = run_training(make_config(args), callbacks=[limiter], control=control)
    emit(dict(mode="headless", samples_per_second=outcome.fit.train_samples_per_second,
              fit_seconds=outcome.fit.seconds, wall_seconds=time.perf_counter() - started,
              batches=limiter.batches, device=outcome.fit.device,
              accuracy=outcome.metrics.accuracy if outcome.metrics else None, peak_rss_mb=peak_rss_mb()))


def child_gui(args) -> None:
    if not args.onscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import numpy as np
    from PySide6.QtCore import QSettings, Qt, QTimer

    from lstm_desktop.core.training.control import TrainingControl
    from lstm_desktop.ui.app import create_application
    from lstm_desktop.ui.main_window import MainWindow

    os.environ.setdefault("LSTM_DESKTOP_SETTINGS_ORG", "lstm-desktop-benchmark")
    app = create_application([])
    settings_dir = tempfile.mkdtemp(prefix="lstm-desktop-bench-")
    settings = QSettings(os.path.join(settings_dir, "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1400, 900)
    window.show()

    control = TrainingControl()
    limiter = BatchLimiter(control, args.limit_batches)
    state: dict = {"ticks": [], "record": None}
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(10)

    def on_tick():
        state["ticks"].append(time.perf_counter())

    probe.timeout.connect(on_tick)

    def on_ready():
        state["started"] = time.perf_counter()
        state["record"] = window.start_training(make_config(args), callbacks=[limiter], control=control)
        window.stateChanged.connect(on_state)

    def on_state(s: str):
        if s == "training" and not probe.isActive():
            state["ticks"].clear()
            state["cpu0"] = time.thread_time()
            state["t0"] = time.perf_counter()
            probe.start()

    def on_finished(_number: int):
        probe.stop()
        if "cpu0" in state:
            state["gui_cpu_share"] = (time.thread_time() - state["cpu0"]) / max(1e-9, time.perf_counter() - state["t0"])
        window.close()

    window.ready.connect(on_ready)
    window.trainingFinished.connect(on_finished)
    window.closed.connect(app.quit)
    app.exec()
    window.shutdown()

    rec = state["record"]
    ticks = np.asarray(state["ticks"])
    lags = (np.diff(ticks) - 0.010) * 1000.0 if len(ticks) > 2 else np.zeros(1)
    lags = np.clip(lags, 0.0, None)
    emit(dict(mode="gui", samples_per_second=rec.samples_per_second if rec else None,
              wall_seconds=time.perf_counter() - state.get("started", time.perf_counter()),
              batches=limiter.batches, device=rec.device if rec else "",
              accuracy=rec.metrics.accuracy if rec is not None and rec.metrics is not None else None,
              status=rec.status if rec else "not started", message=rec.message if rec else "",
              lag_p50_ms=float(np.percentile(lags, 50)), lag_p99_ms=float(np.percentile(lags, 99)),
              lag_max_ms=float(lags.max()), lag_samples=int(len(lags)),
              lag_max_at=float(np.argmax(lags) / max(1, len(lags) - 1)),  # where in the run (0..1)
              lags_over_30ms=int((lags > 30).sum()),
              gui_thread_cpu_share=state.get("gui_cpu_share"),
              batches_plotted=window.plots.counts()["batches"] if window.plots else 0,
              ready_seconds=(window.ready_at - window.shown_at) if window.ready_at and window.shown_at else None,
              peak_rss_mb=peak_rss_mb()))


def child_launch(args) -> None:
    """Start the app the way `lstm-desktop` does; report wall-clock times of the first paint and of ready."""
    if not args.onscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QEvent, QObject, QTimer

    from lstm_desktop.ui.app import create_application

    app = create_application([])
    times: dict = {}

    class Watch(QObject):
        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QEvent.Type.Paint and "shown" not in times:
                from lstm_desktop.ui.main_window import MainWindow

                if isinstance(obj, QObject) and hasattr(obj, "window") and isinstance(obj.window(), MainWindow):
                    times["shown"] = time.time()
                    win = obj.window()
                    win.ready.connect(lambda: (times.setdefault("ready", time.time()), QTimer.singleShot(0, win.close)))
            return False

    watch = Watch()
    app.installEventFilter(watch)
    from lstm_desktop.cli import main

    code = main([])
    app.removeEventFilter(watch)
    emit(dict(mode="launch", shown_at=times.get("shown"), ready_at=times.get("ready"), exit_code=code,
              peak_rss_mb=peak_rss_mb()))


# ------------------------------------------------------------------------------------------ parent
def run_child(mode: str, args, extra_env: dict | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--dataset", args.dataset,
           "--data-dir", str(args.data_dir), "--epochs", str(args.epochs), "--device", args.device,
           "--seed", str(args.seed), "--limit-batches", str(args.limit_batches)]
    if args.onscreen:
        cmd.append("--onscreen")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               LSTM_DESKTOP_SETTINGS_ORG="lstm-desktop-benchmark", **(extra_env or {}))
    launched = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(REPO))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"the {mode} run failed (exit code {proc.returncode})")
    result = json.loads(lines[-1][len("RESULT "):])
    result["launched_at"] = launched
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["mnist", "digits", "synthetic"], default="mnist")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA,
                        help=f"folder holding MNIST/raw (default: {DEFAULT_DATA})")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit-batches", type=int, default=0,
                        help="stop each training run after this many batches (0: run every epoch)")
    parser.add_argument("--repeats", type=int, default=1, help="headless/GUI pairs to run (median reported)")
    parser.add_argument("--launch-trials", type=int, default=3)
    parser.add_argument("--onscreen", action="store_true", help="use the real display instead of offscreen")
    parser.add_argument("--json", action="store_true", help="print only the JSON summary")
    parser.add_argument("--child", choices=["headless", "gui", "launch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        {"headless": child_headless, "gui": child_gui, "launch": child_launch}[args.child](args)
        return 0

    from lstm_desktop.core.data.mnist_files import missing_mnist_files

    if args.dataset == "mnist" and missing_mnist_files(args.data_dir):
        raise SystemExit(f"MNIST not found in {args.data_dir}/MNIST/raw (use --data-dir, or --dataset digits)")
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    say(f"config: {args.dataset}, {args.epochs} epoch(s), notebook settings (hidden 128, batch 64, lr 1e-3), "
        f"device {args.device}" + (f", at most {args.limit_batches} batches" if args.limit_batches else ""))
    headless, gui = [], []
    for i in range(args.repeats):
        # alternate the order so neither mode always gets the warmer machine
        for mode in (("headless", "gui") if i % 2 == 0 else ("gui", "headless")):
            say(f"  running {mode} ({i + 1}/{args.repeats})…")
            result = run_child(mode, args)
            (headless if mode == "headless" else gui).append(result)
            say(f"    {result['samples_per_second']:,.0f} samples/s, peak RSS {result['peak_rss_mb']:,.0f} MB")
    launches = []
    for i in range(args.launch_trials):
        result = run_child("launch", args)
        launches.append(result)
        shown = result["shown_at"] - result["launched_at"] if result["shown_at"] else float("nan")
        ready = result["ready_at"] - result["launched_at"] if result["ready_at"] else float("nan")
        say(f"  launch {i + 1}: window shown after {shown:.2f} s, ready (torch loaded) after {ready:.2f} s")

    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    shown_times = [r["shown_at"] - r["launched_at"] for r in launches if r["shown_at"]]
    ready_times = [r["ready_at"] - r["launched_at"] for r in launches if r["ready_at"]]
    summary = {
        "dataset": args.dataset, "epochs": args.epochs, "limit_batches": args.limit_batches,
        "device": gui[0]["device"],
        "headless_samples_per_second": med(headless, "samples_per_second"),
        "gui_samples_per_second": med(gui, "samples_per_second"),
        "throughput_ratio": med(gui, "samples_per_second") / med(headless, "samples_per_second"),
        "lag_p50_ms": med(gui, "lag_p50_ms"), "lag_p99_ms": med(gui, "lag_p99_ms"),
        "lag_max_ms": max(r["lag_max_ms"] for r in gui), "lag_samples": gui[0]["lag_samples"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in gui),
        "headless_peak_rss_mb": max(r["peak_rss_mb"] for r in headless),
        "launch_to_shown_s": statistics.median(shown_times) if shown_times else None,
        "launch_to_shown_min_s": min(shown_times) if shown_times else None,
        "launch_to_ready_s": statistics.median(ready_times) if ready_times else None,
        "gui_accuracy": gui[0].get("accuracy"), "headless_accuracy": headless[0].get("accuracy"),
        "gui_status": gui[0].get("status"), "gui_thread_cpu_share": gui[0].get("gui_thread_cpu_share"),
    }
    checks = {
        "throughput_ratio": summary["throughput_ratio"] >= TARGETS["throughput_ratio"],
        "lag_p99_ms": summary["lag_p99_ms"] <= TARGETS["lag_p99_ms"],
        "lag_max_ms": summary["lag_max_ms"] <= TARGETS["lag_max_ms"],
        "peak_rss_mb": summary["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "launch_to_shown_s": summary["launch_to_shown_s"] is not None
        and summary["launch_to_shown_s"] <= TARGETS["launch_to_shown_s"],
    }
    summary["targets_met"] = checks
    if not args.json:
        print()
        print(f"{'measure':28} {'value':>12} {'target':>10}  ok")
        rows = [("throughput GUI/headless", f"{summary['throughput_ratio']:.3f}", ">= 0.95", "throughput_ratio"),
                ("event-loop lag p99 (ms)", f"{summary['lag_p99_ms']:.1f}", "<= 30", "lag_p99_ms"),
                ("event-loop lag max (ms)", f"{summary['lag_max_ms']:.1f}", "<= 100", "lag_max_ms"),
                ("peak RSS, GUI (MB)", f"{summary['peak_rss_mb']:,.0f}", "<= 2048", "peak_rss_mb"),
                ("launch to shown (s)", f"{summary['launch_to_shown_s'] or float('nan'):.2f}", "<= 1.5",
                 "launch_to_shown_s")]
        for name, value, target, key in rows:
            print(f"{name:28} {value:>12} {target:>10}  {'yes' if checks[key] else 'NO'}")
        print(f"(headless {summary['headless_samples_per_second']:,.0f} samples/s, GUI "
              f"{summary['gui_samples_per_second']:,.0f} samples/s on {summary['device']}; "
              f"ready after {summary['launch_to_ready_s'] or float('nan'):.2f} s)")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
