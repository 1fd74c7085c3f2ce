"""Done-when checks of the run store: CLI trainings killed with SIGKILL at random moments (after their
first epoch) are all listed `interrupted` with a checkpoint `evaluate` loads, the database passing
`PRAGMA integrity_check` after every kill; and two processes training into one store both complete.

Each training is a real `lstm-desktop train` in a fresh interpreter (never a fork: issue 25) that
imports the CLI before it is told to go; the next ones start while the current one trains
(tests/fresh_processes.py), so 20 kills fit in a few minutes on a loaded machine.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstm_desktop.cli import main
from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.runs.evented_runs import RunStatus
from lstm_desktop.core.runs.store import open_store

from fresh_processes import Ahead, waiting_child

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
TINY = ["--dataset", "digits", "--hidden", "16", "--val-size", "100", "--device", "cpu", "--quiet"]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

SETUP = """
import json, sys
import torch
torch.set_num_threads(1)
from lstm_desktop.cli import main
import lstm_desktop.core.training.session, lstm_desktop.core.runs.recorder, sklearn.datasets, sklearn.metrics  # noqa
"""
BODY = """
sys.exit(main(["train", *json.loads(sys.argv[1]), "--epochs", "1000", "--out", sys.argv[2]]))
"""


def _kill_after_first_epochs(home: Path, tmp_path: Path) -> list[dict]:
    """Train KILLS times; SIGKILL each at a random moment after its first epoch; check the database each time."""
    env = {**os.environ, "LSTM_DESKTOP_HOME": str(home)}

    def start(i: int):
        err = tmp_path / f"train{i}.err"
        return waiting_child(SETUP, BODY, [json.dumps(TINY), str(home.parent / f"out{i}.pt")], err, env), err

    open_store(home).close()
    rng = random.Random(12)
    children = Ahead(start, KILLS)
    report = []
    try:
        for i in range(KILLS):
            went = time.time()
            proc = children.go(i)
            conn = sqlite3.connect(home / "runs.sqlite", timeout=10)
            deadline = time.time() + 90
            while time.time() < deadline and proc.poll() is None:
                row = conn.execute("SELECT epochs_done FROM runs WHERE id = ?", (i + 1,)).fetchone()
                if row and row[0] >= 1:
                    break
                time.sleep(0.02)
            else:
                raise AssertionError(f"run {i + 1} never finished an epoch:\n{children.error_text(i)}")
            first_epoch = time.time() - went
            delay = rng.uniform(0.0, 1.0)  # anywhere: in a batch, the epoch's transaction, a checkpoint write
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            conn.close()
            report.append({"run": i + 1, "delay": round(delay, 3), "integrity": check,
                           "first_epoch_s": round(first_epoch, 2)})
    finally:
        children.close()
    return report


@pytest.mark.timeout(600)
def test_twenty_cli_trainings_killed_at_random_are_all_interrupted_with_a_loadable_checkpoint(
        tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    started = time.time()
    report = _kill_after_first_epochs(home, tmp_path)
    sys.__stdout__.write(f"\n{KILLS} kills in {time.time() - started:.1f} s: {report}\n")
    assert len(report) == KILLS and all(r["integrity"] == "ok" for r in report)

    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(home))
    store = open_store(home)  # the open marks the dead runs interrupted
    assert store.integrity_check() == "ok"
    runs = store.list_runs()
    assert len(runs) == KILLS and all(r.status is RunStatus.INTERRUPTED for r in runs), \
        [(r.id, r.status) for r in runs]
    for run in runs:
        path = store.absolute(run.checkpoint_path)
        assert run.epochs_done >= 1 and path == home / "runs" / str(run.id) / "model.pt"
        # the file is at most one epoch ahead of the database (killed between its rename and the update)
        assert len(load_checkpoint(path).history["epoch"]) in (run.epochs_done, run.epochs_done + 1)
        assert len(store.get_curves(run.id)["epoch"]) >= run.epochs_done
    for run in runs:
        code = main(["evaluate", str(run.id), "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert 0.0 <= json.loads(out.strip().splitlines()[-1])["accuracy"] <= 1.0


def test_two_processes_training_into_one_store_both_complete(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "LSTM_DESKTOP_HOME": str(home), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "lstm_desktop", "train", *TINY, "--epochs", "4", "--json",
                               "--seed", str(seed), "--out", str(tmp_path / f"m{seed}.pt")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        ids.append(json.loads(out.strip().splitlines()[-1])["run_id"])
    store = open_store(home)
    runs = store.list_runs()
    assert sorted(ids) == [r.id for r in runs] == [1, 2]
    assert all(r.status is RunStatus.FINISHED and r.epochs_done == 4 and r.accuracy is not None for r in runs)
    assert {r.config.seed for r in runs} == {1, 2}
    assert all(len(store.get_curves(r.id)["val_loss"]) == 4 for r in runs)
    assert store.integrity_check() == "ok"
