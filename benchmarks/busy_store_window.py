"""The window against a damaged and a busy run store (issue 26's "done when" figures).

1. damaged: three CLI runs, then runs.sqlite zeroed; the window opens the store: how many runs it
   lists, and the notice it shows (what was repaired).
2. busy: a 40-epoch digits training in the window with the store free (the baseline: what this
   machine's load alone costs the GUI thread), then the same training while another process holds
   `BEGIN EXCLUSIVE` on the store for 20 s; a 10 ms QTimer on the GUI thread measures how late it
   fires (busy time) in each; then whether the run was recorded once the store was free.

    QT_QPA_PLATFORM=offscreen python benchmarks/busy_store_window.py [--hold 20] [--epochs 40]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def make_runs(home: Path, n: int) -> None:
    env = dict(os.environ, LSTM_DESKTOP_HOME=str(home), PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    for i in range(n):
        subprocess.run([sys.executable, "-m", "lstm_desktop", "train", "--dataset", "digits", "--hidden", "8",
                        "--epochs", "1", "--device", "cpu", "--quiet", "--seed", str(i),
                        "--out", str(home.parent / f"m{i}.pt")], env=env, check=True, capture_output=True)
    db = home / "runs.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    db.write_bytes(b"\0" * db.stat().st_size)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hold", type=float, default=20.0)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="busy-store-")) / "home"
    os.environ["LSTM_DESKTOP_HOME"] = str(home)
    os.environ.setdefault("LSTM_DESKTOP_SETTINGS_ORG", "lstm-desktop-benchmark")
    make_runs(home, 3)

    import numpy as np
    from PySide6.QtCore import QSettings, Qt, QTimer

    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.runs.store import open_store
    from lstm_desktop.ui.app import create_application
    from lstm_desktop.ui.main_window import MainWindow
    from lstm_desktop.ui.messages import Messages

    app = create_application([])
    shown: list[str] = []
    original = Messages.show_error  # every part's messages go through it
    Messages.show_error = lambda self, message, *a, **k: (shown.append(message), original(self, message, *a, **k))[1]
    settings = QSettings(str(home.parent / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.show()
    state: dict = {"ticks": {"baseline": [], "busy": []}, "phase": "baseline", "hold": None, "spans": {}}
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(10)
    probe.timeout.connect(lambda: state["ticks"][state["phase"]].append(time.perf_counter()))
    config = TrainConfig.for_dataset("digits", epochs=args.epochs, hidden=16, device="cpu", threads=1)

    def on_ready() -> None:  # first the same training with the store free: the machine's own lag
        state["runs_at_ready"] = len(window.runs)
        state["spans"]["baseline"] = [time.perf_counter(), None]
        probe.start()
        window.start_training(config)

    def start_busy() -> None:
        state["phase"] = "busy"
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home / "runs.sqlite"), str(args.hold)],
                                  stdout=subprocess.PIPE, text=True)
        holder.stdout.readline()
        state["hold"] = (holder, time.perf_counter())
        state["spans"]["busy"] = [time.perf_counter(), None]
        state["run"] = window.start_training(config)

    def on_finished(_n: int) -> None:
        state["spans"][state["phase"]][1] = time.perf_counter()
        if state["phase"] == "baseline":
            QTimer.singleShot(500, start_busy)
            return
        state["trained_s"] = time.perf_counter() - state["hold"][1]
        QTimer.singleShot(int(max(0.0, args.hold - state["trained_s"] + 1) * 1000), window.close)

    window.ready.connect(on_ready)
    window.trainingFinished.connect(on_finished)
    window.closed.connect(app.quit)
    app.exec()
    probe.stop()
    holder, held_at = state["hold"]
    holder.wait(timeout=120)
    window.shutdown()

    def lags_of(phase: str) -> tuple[np.ndarray, list]:
        begin, finish = state["spans"][phase]
        ticks = np.asarray(state["ticks"][phase])
        during = ticks[(ticks >= begin) & (ticks <= finish)]
        lags = np.clip((np.diff(during) - 0.010) * 1000.0, 0.0, None) if len(during) > 2 else np.zeros(1)
        worst = sorted(((float(lag), round(float(t - begin), 2)) for lag, t in zip(lags, during[1:])),
                       reverse=True)[:5]
        return lags, worst

    base, _ = lags_of("baseline")
    lags, worst = lags_of("busy")
    run = state["run"]
    deadline = time.time() + 60
    stored = None
    while time.time() < deadline:  # the window's queued writes land once the lock is gone
        stored = open_store(home).get_run(run.id)
        if not stored.status.active:
            break
        time.sleep(0.2)
    print(json.dumps({
        "runs_before_damage": 3, "runs_in_window_after_repair": state["runs_at_ready"],
        "notice": next((m for m in shown if "repaired" in m), None),
        "lock_held_s": args.hold, "training_s": round(state["trained_s"], 2),
        "free_store_gui_lag_p50_ms": round(float(np.percentile(base, 50)), 2),
        "free_store_gui_lag_p99_ms": round(float(np.percentile(base, 99)), 2),
        "gui_lag_p50_ms": round(float(np.percentile(lags, 50)), 2),
        "gui_lag_p99_ms": round(float(np.percentile(lags, 99)), 2), "gui_lag_max_ms": round(float(lags.max()), 2),
        "lag_samples": int(len(lags)), "worst_lags_ms_at_s": [(round(a, 1), b) for a, b in worst], "run_status": str(stored.status), "epochs_done": stored.epochs_done,
        "curve_epochs": len(open_store(home).get_curves(run.id).get("epoch", []))}))


if __name__ == "__main__":
    main()
