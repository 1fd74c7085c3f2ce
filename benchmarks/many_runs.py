"""The Results tab with 10,000 runs: launch to window ready, and the GUI thread's time for filtering,
sorting, selecting 20 runs, drawing their curves and the parallel-coordinates view, each against an
empty store (launch) or a store of a few runs (actions), in the same run. Each action reports its
wall time and the GUI thread's CPU time (`time.thread_time`: what the GUI thread itself spent,
which a machine loaded by other programs inflates far less than wall time).

The store is filled through its own API (`create_run`, one `append_curves` with every epoch, one
`update`): varied settings (cell, hidden, layers, lr and weight decay on log grids, batch, dropout,
seed), 5 epochs of curves (epoch curves plus 40 batch losses an epoch), test metrics. Each action
is timed on the GUI thread with everything it triggers delivered (`processEvents`), --repeats
times, after two seconds of idling (the table builds its filter texts and sort keys while idle);
p50 and p99 are printed, and for the big store the p99 against the small one. The load average
is printed at the start and the end. Launch is measured in fresh processes, alternating stores, as wall time
and as the process's CPU time up to ready (steadier on a machine other programs load).

    QT_QPA_PLATFORM=offscreen python benchmarks/many_runs.py --runs 10000 --repeats 30 [--home DIR]

--profile prints where each action's GUI-thread time goes (cProfile, cumulative) and skips launch.
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

EPOCHS, BATCHES = 5, 40


def fill(home: Path, runs: int, seed: int = 0) -> float:
    """Write `runs` finished runs into the store at home; returns the seconds it took."""
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.training.metrics import ClassMetrics, Metrics
    from lstm_desktop.core.runs.store import open_store

    store = open_store(home)
    rng = random.Random(seed)
    started = time.perf_counter()
    for _ in range(runs):
        config = TrainConfig(dataset=rng.choice(["mnist", "mnist", "digits"]), cell=rng.choice(["lstm", "gru", "rnn"]),
                             hidden=rng.choice([32, 64, 128, 256]), layers=rng.choice([1, 1, 2, 3]),
                             bidirectional=rng.random() < 0.3, attention=rng.random() < 0.2,
                             lr=rng.choice([1e-4, 3e-4, 1e-3, 3e-3, 1e-2]),
                             weight_decay=rng.choice([0.0, 1e-5, 1e-4, 1e-3]), batch_size=rng.choice([32, 64, 128]),
                             dropout=rng.choice([0.0, 0.1, 0.3]), epochs=EPOCHS, seed=rng.randrange(1000))
        quality = 0.9 + 0.08 * rng.random()
        run = store.create_run(config, source=rng.choice(["window", "cli"]), device="cpu", torch_version="2.14",
                               host="bench", machine="Linux x86_64", parameters=rng.randrange(10_000, 500_000))
        loss, curves = 2.3, {k: [] for k in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                             "lr", "seconds", "samples_per_second", "batch_x", "batch_loss")}
        for epoch in range(EPOCHS):
            for b in range(BATCHES):
                loss = max(0.02, loss * 0.97 + rng.gauss(0, 0.02))
                curves["batch_x"].append(epoch + (b + 1) / BATCHES)
                curves["batch_loss"].append(loss)
            acc = quality - 0.2 / (epoch + 1) + rng.gauss(0, 0.005)
            for key, value in (("epoch", epoch + 1.0), ("train_loss", loss), ("train_accuracy", acc),
                               ("val_loss", loss * 1.1), ("val_accuracy", acc - 0.005), ("lr", config.lr),
                               ("seconds", 10.0), ("samples_per_second", 5000.0)):
                curves[key].append(value)
        store.append_curves(run.id, curves)
        acc = quality - 0.04 + rng.gauss(0, 0.003)
        per = [ClassMetrics(i, acc, acc, acc, 1000) for i in range(10)]
        store.update(run.id, status="finished", ended=run.created, seconds=50.0 + rng.random() * 100,
                     epochs_done=EPOCHS, metrics=Metrics(acc, acc, acc, acc, per, [], 10_000),
                     checkpoint_path=store.run_dir(run.id) / "model.pt")
    store.close()
    return time.perf_counter() - started


LAUNCH = r"""
import json, sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication(["bench"])
from lstm_desktop.ui.main_window import MainWindow
w = MainWindow(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat))
w.resize(1320, 860)
w.show()
while not w.is_ready:
    app.processEvents()
    time.sleep(0.002)
print(json.dumps({"ready": time.perf_counter() - t0, "cpu": time.process_time(),
                  "rows": w.runs_panel.proxy.rowCount()}))
w.shutdown()
"""

ACTIONS = r"""
import json, sys, time
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
app = QApplication(["bench"])
from lstm_desktop.ui.main_window import MainWindow
from lstm_desktop.ui.runs_table_model import ACCURACY, BEST
w = MainWindow(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat))
w.resize(1320, 860)
w.show()
while not w.is_ready:
    app.processEvents()
    time.sleep(0.002)
repeats = int(sys.argv[2])
w.tabs.setCurrentIndex(1)
end = time.perf_counter() + 2.0  # a user's first second or two: the table's idle-time work finishes
while time.perf_counter() < end:
    app.processEvents()
    time.sleep(0.005)
res, panel = w.results, w.runs_panel

cpu = {}
import cProfile, io, os, pstats
profiles = {} if os.environ.get("BENCH_PROFILE") else None

def timed(fn, key=None):
    prof = profiles.setdefault(key, cProfile.Profile()) if profiles is not None else None
    if prof is not None:
        prof.enable()
    t, c = time.perf_counter(), time.thread_time()
    fn()
    app.processEvents()
    cpu.setdefault(key, []).append((time.thread_time() - c) * 1000)
    wall = (time.perf_counter() - t) * 1000
    if prof is not None:
        prof.disable()
    return wall

out = {"filter": [], "sort": [], "select_20": [], "curves_20": [], "parallel_20": []}
all_ids = [r.id for r in w.runs]
for i in range(repeats):
    word = ("gru", "lstm 0.001", "rnn", "256")[i % 4]
    out["filter"].append(timed(lambda: panel.search.setText(word), "filter"))
    out["filter"].append(timed(lambda: panel.search.setText(""), "filter"))
    col = (ACCURACY, BEST)[i % 2]
    order = (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder)[i % 2]
    out["sort"].append(timed(lambda: panel.table.sortByColumn(col, order), "sort"))
    pick = all_ids[(i * 37) % max(1, len(all_ids) - 20):][:20]
    for run in w.runs:  # a fresh selection: curves not loaded yet
        if run.id in pick:
            run.history = {}
    res.compare_tabs.setCurrentWidget(res.hyperparams)
    out["select_20"].append(timed(lambda: panel.select_many(pick), "select_20"))
    out["curves_20"].append(timed(lambda: res.compare_tabs.setCurrentWidget(res.comparison), "curves_20"))
    out["parallel_20"].append(timed(lambda: res.compare_tabs.setCurrentWidget(res.parallel), "parallel_20"))
    shown = {"curves": res.comparison.curve_count(), "axes": len(res.parallel.axes)}
    panel.select_many([])
    app.processEvents()
for key, prof in (profiles or {}).items():
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(28)
    print(f"==== profile of {key} ({len(out[key])} calls) ====", text.getvalue()[-6000:], file=sys.stderr)
print(json.dumps({"rows": panel.proxy.rowCount(), **shown, **out, "cpu": {k: v for k, v in cpu.items() if k}}))
w.shutdown()
"""


def child(code: str, home: Path, *args: str) -> dict:
    env = dict(os.environ, LSTM_DESKTOP_HOME=str(home), QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    ini = Path(tempfile.mkdtemp()) / "bench.ini"
    proc = subprocess.run([sys.executable, "-c", code, str(ini), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    if env.get("BENCH_PROFILE") and "==== profile" in proc.stderr:
        print(proc.stderr[proc.stderr.index("==== profile"):])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=30, help="runs in the comparison store for the actions")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--launches", type=int, default=3)
    parser.add_argument("--home", default=None, help="the big store: filled here if empty, reused if filled")
    parser.add_argument("--profile", action="store_true", help="profile the actions on the big store only")
    args = parser.parse_args()
    if args.profile:
        os.environ["BENCH_PROFILE"] = "1"
        args.launches = 0
    print(f"load average at start: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        big, small, empty = Path(args.home or Path(tmp) / "big"), Path(tmp) / "small", Path(tmp) / "empty"
        if (big / "runs.sqlite").is_file():
            print(f"reusing the store in {big}")
        else:
            seconds = fill(big, args.runs)
            print(f"filled {args.runs:,} runs in {seconds:.1f} s ({seconds / max(args.runs, 1) * 1000:.2f} ms a run)")
        fill(small, args.small, seed=1)
        fill(empty, 0)
        ready = {"empty": [], "big": []}
        cpu = {"empty": [], "big": []}
        rows = 0
        for _ in range(args.launches):
            for name, home in (("empty", empty), ("big", big)):
                got = child(LAUNCH, home)
                ready[name].append(got["ready"])
                cpu[name].append(got["cpu"])
                rows = max(rows, got["rows"])
        if args.launches:
            report_launch(ready, cpu, rows, args.launches)
        stores = [("the big store", big)] if args.profile else [(f"{args.small} runs", small), ("the big store", big)]
        base = None
        for name, home in stores:
            got = child(ACTIONS, home, str(args.repeats))
            print(f"{name}: {got['rows']} rows, {got['curves']} curves, {got['axes']} parallel axes")
            for key in ("filter", "sort", "select_20", "curves_20", "parallel_20"):
                values, cpu = got[key], got["cpu"][key]
                versus = "" if base is None else \
                    f"; p99 vs {args.small} runs: wall {p99(values) - p99(base[key]):+.1f}, CPU " \
                    f"{p99(cpu) - p99(base['cpu'][key]):+.1f} ms"
                print(f"  {key:<12} wall p50 {statistics.median(values):6.1f} p99 {p99(values):6.1f} ms; "
                      f"GUI-thread CPU p50 {statistics.median(cpu):6.1f} p99 {p99(cpu):6.1f} ms  "
                      f"(n={len(values)}{versus}; target p99 <= 100 ms)")
            base = got
    print(f"load average at end: {load_average()}")
    return 0


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other programs share the machine), or '?'."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def report_launch(ready: dict, cpu: dict, rows: int, launches: int) -> None:
    e, b = statistics.median(ready["empty"]), statistics.median(ready["big"])
    ce, cb = statistics.median(cpu["empty"]), statistics.median(cpu["big"])
    print(f"launch to window ready ({rows:,} runs listed): wall empty {e:.2f} s, big {b:.2f} s, delta {b - e:+.2f} s; "
          f"process CPU empty {ce:.2f} s, big {cb:.2f} s, delta {cb - ce:+.2f} s "
          f"(medians of {launches}; target delta <= 1 s)")


if __name__ == "__main__":
    raise SystemExit(main())
