"""How soon the open window lists a run another process commits, and how long its GUI thread stalls
while another process holds the run store's write lock for 10 s (issue 27).

    python benchmarks/store_watch.py [--runs 8]

Creates a throw-away store, opens the window offscreen, then (1) commits `--runs` runs from fresh
interpreters and times each from the commit (CLOCK_MONOTONIC, shared by the processes) until it is
in the window's Runs model (target < 2 s); (2) holds `BEGIN EXCLUSIVE` for 10 s in another process
while a 5 ms QTimer records the gaps between its ticks and the window selects runs (target p99 < 50 ms).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ADD = ("import sys, time; from lstm_desktop.core.runs.store import open_store; s = open_store(sys.argv[1]); "
       "r = s.create_run(None, source='cli'); print(r.id, time.monotonic(), flush=True)")
HOLD = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(10); c.execute('COMMIT')")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="runs to commit from other processes")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="store-watch-"))
    os.environ["LSTM_DESKTOP_HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from lstm_desktop.ui.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(home / "w.ini"), QSettings.Format.IniFormat))
    window.assume_yes = True
    window.show()

    def spin(done, limit: float) -> None:
        end = time.monotonic() + limit
        while not done() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.002)

    spin(lambda: window.is_ready, 120)
    latencies = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", ADD, str(home)], capture_output=True, text=True, check=True)
        run_id, committed = int(out.stdout.split()[0]), float(out.stdout.split()[1])
        spin(lambda: run_id in window.runs, 10)
        latencies.append(time.monotonic() - committed if run_id in window.runs else float("inf"))
    print("a run committed elsewhere is listed after (s): " + ", ".join(f"{x:.2f}" for x in latencies)
          + f"; max {max(latencies):.2f}")

    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(home / "runs.sqlite")], stdout=subprocess.PIPE,
                              text=True)
    holder.stdout.readline()
    gaps: list[float] = []
    last = [time.monotonic()]

    def tick() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    ids = [r.id for r in window.runs]
    while holder.poll() is None:
        app.processEvents()
        time.sleep(0.001)
        if ids and len(gaps) % 200 == 199:
            window.runs_panel.select(ids.pop())
    timer.stop()
    gaps.sort()
    print(f"while another process held the write lock 10 s: {len(gaps)} ticks of 5 ms, gap p99 "
          f"{gaps[int(len(gaps) * 0.99)] * 1000:.1f} ms, max {gaps[-1] * 1000:.1f} ms")
    window.shutdown()
    window.close()


if __name__ == "__main__":
    main()
