"""`evaluate` of the shipped model works from any folder: with --data-dir, and with $LSTM_DESKTOP_DATA
(a relative data folder stored in a checkpoint is never used from another folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["flag", "environment"])
def test_evaluate_the_shipped_model_from_another_folder(tmp_path, mnist_dir, how):
    from lstm_desktop.core.files.resources import shipped_model_path

    env = dict(os.environ, LSTM_DESKTOP_HOME=str(tmp_path / "home"))
    args = [sys.executable, "-m", "lstm_desktop", "evaluate", str(shipped_model_path()), "--json"]
    if how == "flag":
        args += ["--data-dir", str(mnist_dir)]
    else:
        env["LSTM_DESKTOP_DATA"] = str(mnist_dir)
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["dataset"] == "mnist" and summary["accuracy"] > 0.99


def test_a_missing_dataset_says_where_it_looked_and_what_works(tmp_path):
    from lstm_desktop.core.files.resources import shipped_model_path

    env = dict(os.environ, LSTM_DESKTOP_HOME=str(tmp_path / "home"), LSTM_DESKTOP_DATA=str(tmp_path / "none"))
    proc = subprocess.run([sys.executable, "-m", "lstm_desktop", "evaluate", str(shipped_model_path())],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert str(tmp_path / "none") in proc.stderr
    assert "--dataset digits" not in proc.stderr  # a 28x28 model cannot be scored on the 8x8 digits
