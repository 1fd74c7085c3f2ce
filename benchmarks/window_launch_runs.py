"""Launch the window with 1,000 stored runs vs an empty store: time until the window is shown and
until the runs table lists every run; then scroll the table and measure how long the GUI thread
is ever busy (a 5 ms timer probe). Each case runs in a fresh process, alternating, --repeats times.

    QT_QPA_PLATFORM=offscreen python benchmarks/window_launch_runs.py --runs 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["bench"])
from lstm_desktop.ui.main_window import MainWindow
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
w = MainWindow(settings=settings)
w.resize(1320, 860)
w.show()
shown = None
while shown is None or not w.is_ready:
    app.processEvents()
    if shown is None and w.shown_at is not None:
        shown = time.perf_counter() - t0
    time.sleep(0.002)
listed = time.perf_counter() - t0
rows = w.runs_panel.proxy.rowCount()
w.tabs.setCurrentIndex(1)
for _ in range(20):
    app.processEvents(); time.sleep(0.005)
fired = []
clock = QElapsedTimer(); clock.start()
probe = QTimer(); probe.setTimerType(Qt.TimerType.PreciseTimer); probe.setInterval(5)
probe.timeout.connect(lambda: fired.append(clock.nsecsElapsed() / 1e6)); probe.start()
bar = w.runs_panel.table.verticalScrollBar()
end = time.perf_counter() + 3.0
step = max(1, bar.maximum() // 60)
while time.perf_counter() < end:
    bar.setValue((bar.value() + step) % (bar.maximum() + 1))
    for _ in range(3):
        app.processEvents(); time.sleep(0.004)
probe.stop()
gaps = [max(0.0, b - a - 5) for a, b in zip(fired, fired[1:])]
gaps.sort()
print(json.dumps({"shown": shown, "listed": listed, "rows": rows,
                  "scroll_p99": gaps[int(0.99 * (len(gaps) - 1))] if gaps else 0.0,
                  "scroll_max": gaps[-1] if gaps else 0.0}))
w.shutdown()
"""


def launch(home: Path) -> dict:
    env = dict(os.environ, LSTM_DESKTOP_HOME=str(home), QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    ini = Path(tempfile.mkdtemp()) / "bench.ini"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(ini)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from benchmarks.store_launch import build

    full = Path(tempfile.mkdtemp(prefix="lstm-bench-full-"))
    empty = Path(tempfile.mkdtemp(prefix="lstm-bench-empty-"))
    seconds = build(full, args.runs, 5, 938)
    print(f"built a store of {args.runs} runs in {seconds:.1f} s")
    results: dict[str, list[dict]] = {"empty": [], "full": []}
    for _ in range(args.repeats):
        for name, home in (("empty", empty), ("full", full)):
            results[name].append(launch(home))
    for name, rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("shown", "listed", "scroll_p99", "scroll_max")}
        print(f"{name:5}: {rows[0]['rows']} runs listed; window shown {med['shown']:.2f} s, ready with the runs "
              f"listed {med['listed']:.2f} s after start (medians of {len(rows)}); while scrolling the table the GUI "
              f"thread was busy at most p99 {med['scroll_p99']:.1f} ms, max {med['scroll_max']:.1f} ms")
    extra = statistics.median(r["listed"] for r in results["full"]) - statistics.median(
        r["listed"] for r in results["empty"])
    print(f"1,000 stored runs add {extra:+.2f} s to the launch (same run, medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
