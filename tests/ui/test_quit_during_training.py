"""QApplication.quit() while a run trains (a logout, a script) ends the process cleanly: the worker is
stopped, its thread waited for, exit code 0, and the run's last finished epoch is kept. Run in a
subprocess: the failure this guards against is an abort (SIGABRT) that would kill the test runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ui_helpers import driven_app_script

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = driven_app_script("""
    if "run" not in seen:
        seen["run"] = w.start_training(TrainConfig(dataset="digits", hidden=16, epochs=400, batch_size=8,
                                                   device="cpu", threads=1, val_size=50))
    elif w.plots.counts()["epochs"] >= 1 and "quit" not in seen:
        seen["quit"] = True
        QApplication.quit()  # as a desktop logout does: no close event, no question
""", result='seen["run"].status if "run" in seen else None, seen["run"].epochs_done if "run" in seen else None')


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
