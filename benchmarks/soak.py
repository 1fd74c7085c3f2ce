"""Soak test: the app trains for a long time with live plots while digits are drawn on the pad.

Pass: no crash, and RSS at the end within 10% of RSS after the first epoch. Also prints the
None refcount (PySide6 6.12.0 on CPython 3.11 leaks it on every QPainter call and aborts).

    QT_QPA_PLATFORM=offscreen python benchmarks/soak.py --minutes 30 [--data-dir ../shared/data/mnist]
    (or under Xvfb with DISPLAY set, for a real window)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--draw-every", type=float, default=3.0, help="seconds between drawn digits")
    args = parser.parse_args()

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.data.synthetic_digits import generate_digits
    from lstm_desktop.ui.main_window import MainWindow
    from lstm_desktop.testing import replay_strokes

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "soak.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    win.resize(1400, 900)
    win.show()
    t_end = time.monotonic() + args.minutes * 60
    while not win.is_ready and time.monotonic() < t_end:
        app.processEvents()
        time.sleep(0.01)

    digits = generate_digits(500, seed=7)
    state = {"drawn": 0, "runs": 0, "epochs": 0, "rss_first_epoch": None, "samples": [],
             "none_start": sys.getrefcount(None), "failed": None}
    config = TrainConfig(dataset="mnist", data_dir=args.data_dir, epochs=1000, seed=0)

    def start_run() -> None:
        state["runs"] += 1
        win.start_training(config)
        worker = win.training_worker
        if worker is not None:
            worker.epochEnded.connect(on_epoch)

    def on_epoch(info) -> None:
        state["epochs"] += 1
        rss = rss_mb()
        if state["rss_first_epoch"] is None:
            state["rss_first_epoch"] = rss
        state["samples"].append((time.monotonic(), rss))
        print(f"epoch {state['epochs']}: RSS {rss:.0f} MB, digits drawn {state['drawn']}, "
              f"None refs {sys.getrefcount(None)}", flush=True)

    def draw() -> None:
        if win.pad_panel is None:
            return
        win.tabs.setCurrentIndex(2)  # Draw
        d = digits[state["drawn"] % len(digits)]
        replay_strokes(win.pad_panel.pad, d.strokes)
        state["drawn"] += 1
        QTimer.singleShot(800, lambda: (win.pad_panel.clear(), win.tabs.setCurrentIndex(0)))

    win.trainingFinished.connect(lambda n: QTimer.singleShot(500, start_run) if time.monotonic() < t_end else None)
    drawer = QTimer()
    drawer.timeout.connect(draw)
    drawer.start(int(args.draw_every * 1000))
    start_run()
    start = time.monotonic()
    while time.monotonic() < t_end:
        app.processEvents()
        time.sleep(0.005)
    drawer.stop()
    end_rss = rss_mb()
    win.stop_training()
    win.close()
    deadline = time.monotonic() + 30
    while win.running_threads() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    first = state["rss_first_epoch"] or float("nan")
    growth = (end_rss - first) / first * 100
    print(f"soak {(time.monotonic() - start) / 60:.1f} min: {state['epochs']} epochs, {state['runs']} runs, "
          f"{state['drawn']} digits drawn")
    print(f"RSS after first epoch {first:.0f} MB, at end {end_rss:.0f} MB ({growth:+.1f}%); "
          f"max {max([r for _, r in state['samples']] + [end_rss]):.0f} MB")
    print(f"None refcount: start {state['none_start']}, end {sys.getrefcount(None)}")
    ok = abs(growth) <= 10 or growth < 0
    print("PASS" if ok else "FAIL: memory grew more than 10%")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
