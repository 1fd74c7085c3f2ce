"""QApplication.quit() while a run trains (a logout, a script) ends the process cleanly: the worker is
stopped, its thread waited for, exit code 0, and the run's last finished epoch is kept. Run in a
subprocess: the failure this guards against is an abort (SIGABRT) that would kill the test runner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
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
        if "run" not in seen:
            seen["run"] = w.start_training(TrainConfig(dataset="digits", hidden=16, epochs=400, batch_size=8,
                                                       device="cpu", threads=1, val_size=50))
        elif w.plots.counts()["epochs"] >= 1 and "quit" not in seen:
            seen["quit"] = True
            QApplication.quit()  # as a desktop logout does: no close event, no question

    timer = QTimer()
    timer.timeout.connect(drive)
    timer.start(50)
    code = app_module.run_app([])
    run = seen.get("run")
    print("RESULT", code, run.status if run else None, run.epochs_done if run else None, flush=True)
    sys.exit(code)
""")


def test_quit_during_training_exits_zero_and_keeps_the_run(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LSTM_DESKTOP_HOME=str(tmp_path / "home"),
               LSTM_DESKTOP_SETTINGS_APP="lstm-desktop-quit-test", XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "QThread: Destroyed" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    result = [line.split() for line in proc.stdout.splitlines() if line.startswith("RESULT")][-1]
    assert result[1] == "0" and result[2] in ("stopped", "finished") and int(result[3]) >= 1
    from lstm_desktop.core.runs.store import open_store

    store = open_store(tmp_path / "home")
    runs = store.load_runs()
    assert len(runs) == 1 and str(runs[0].status) in ("stopped", "finished")
    assert store.absolute(runs[0].checkpoint_path).is_file()
