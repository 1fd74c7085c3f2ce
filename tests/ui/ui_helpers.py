"""Helpers the window tests share: train a run in a window and wait until its thread has ended."""

from __future__ import annotations

TRAIN_TIMEOUT_MS = 120_000  # a tiny run on a busy 2-core machine


def train(qtbot, window, config):
    """Train `config` in `window` to its end; returns the run."""
    with qtbot.waitSignal(window.trainingFinished, timeout=TRAIN_TIMEOUT_MS):
        run = window.start_training(config)
        assert run is not None
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    return run


def wait_for_batches(qtbot, window, n: int = 3) -> None:
    """Wait until the window's curves show n batches."""
    qtbot.waitUntil(lambda: window.plots.counts()["batches"] >= n, timeout=TRAIN_TIMEOUT_MS)


_DRIVEN_APP = '''
import sys
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.ui import app as app_module
from lstm_desktop.ui.main_window import MainWindow

app = QApplication(["test"])
seen = {}

def drive():
    wins = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
    if not wins or not wins[0].is_ready:
        return
    w = wins[0]
STEPS
timer = QTimer()
timer.timeout.connect(drive)
timer.start(50)
code = app_module.run_app([])
print("RESULT", code, RESULT, flush=True)
sys.exit(code)
'''


def driven_app_script(steps: str, result: str) -> str:
    """The source of a process that runs the real app (`app.run_app`, as `lstm-desktop` does) and calls
    `steps` every 50 ms once the window is ready, with `w` (the window), `app` and `seen` (a dict) in
    scope; it prints `RESULT <exit code> <result>` and exits with the app's code. For failures that
    kill a process (a crash, an abort), which must fail a test, not the test runner."""
    import textwrap

    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "    ")
    return _DRIVEN_APP.replace("STEPS", body + "\n").replace("RESULT,", f"{result},", 1)
