"""How long the GUI thread is ever busy while someone draws, with the inside view open beside the pad.

A 5 ms QTimer probe records when it actually fires; a gap longer than 5 ms is time the GUI thread
spent on something else (a paint, a prediction, an explanation). Strokes of synthetic digits are
replayed as real mouse events, paced like a hand (a move every ~8 ms), in a real main window on the
Draw tab with the shipped model. The goal (issue 11): no GUI-thread task over 16 ms.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_thread_while_drawing.py --digits 40
    DISPLAY=:99 python benchmarks/gui_thread_while_drawing.py            # a real window
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
PROBE_MS = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=40)
    parser.add_argument("--move-ms", type=float, default=8.0, help="time between pointer moves")
    parser.add_argument("--without-inside", action="store_true", help="hide the inside view (the pad alone)")
    args = parser.parse_args()
    os.environ.setdefault("LSTM_DESKTOP_HOME", tempfile.mkdtemp(prefix="lstm-bench-home-"))
    os.environ.setdefault("LSTM_DESKTOP_SETTINGS_APP", "lstm-desktop-bench")
    from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from lstm_desktop.core.data.synthetic_digits import generate_digits
    from lstm_desktop.testing import send_mouse
    from lstm_desktop.ui.main_window import MainWindow

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1400, 900)
    window.show()
    deadline = time.monotonic() + 180
    while not window.is_ready and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    window.tabs.setCurrentIndex(2)
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    pad = window.pad_panel.pad
    if args.without_inside:
        window.inside_view.hide()

    fired: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(lambda: fired.append(clock.nsecsElapsed() / 1e6))
    probe.start()

    def wait(ms: float) -> None:
        end = time.perf_counter() + ms / 1000
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.0005)

    explained = 0
    start = time.perf_counter()
    for digit in generate_digits(args.digits, seed=7):
        window.pad_panel.clear()
        for stroke in digit.strokes:
            pad.set_pen_width(stroke.width)
            pts = [pad.to_widget(float(x), float(y)) for x, y in stroke.points]
            send_mouse(pad, QEvent.Type.MouseButtonPress, pts[0], Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
            for q in pts[1:-1]:
                send_mouse(pad, QEvent.Type.MouseMove, QPointF(q), Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
                wait(args.move_ms)
            send_mouse(pad, QEvent.Type.MouseButtonRelease, pts[-1], Qt.MouseButton.LeftButton,
                       Qt.MouseButton.NoButton)
            wait(30)
        before = window.inside_view.explanation
        wait(150)  # the explanation of the finished digit arrives and is painted
        explained += window.inside_view.explanation is not before
    seconds = time.perf_counter() - start
    probe.stop()
    gaps = np.diff(np.asarray(fired))
    busy = np.maximum(gaps - PROBE_MS, 0.0)
    print(f"{args.digits} digits drawn in {seconds:.1f} s with the inside view open; {explained} new "
          f"explanations painted; probe ticks: {len(fired)}")
    print(f"GUI thread busy between ticks: p50 {np.percentile(busy, 50):.2f} ms, p99 {np.percentile(busy, 99):.2f} ms, "
          f"max {busy.max():.2f} ms; ticks late by more than 16 ms: {int((busy > 16).sum())} of {len(busy)}")
    window.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
