"""A busy run store never fails a training: another process holding the store's write lock
(BEGIN EXCLUSIVE) for longer than SQLite's 10 s busy timeout leaves the training to finish, its
--out written while the lock is still held, and the run recorded once the lock is gone."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from lstm_desktop.core.runs.evented_runs import RunStatus
from lstm_desktop.core.runs.store import open_store
from lstm_desktop.core.runs.store_writer import StoreWriter

from fault_helpers import PYTHON, ROOT, TINY

pytestmark = pytest.mark.timeout(240)

HOLD_S = 18  # longer than the store's 10 s busy timeout
HOLDER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("UPDATE runs SET notes = 'held' WHERE id = 1")
    print("held", flush=True)
    sys.stdin.readline()  # the test says when to let go
    conn.execute("COMMIT")
    print("released", flush=True)
""")


def _hold(db: Path) -> subprocess.Popen:
    holder = subprocess.Popen([PYTHON, "-c", HOLDER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _release(holder: subprocess.Popen) -> None:
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"
    holder.wait(timeout=30)


def test_a_training_finishes_while_another_process_holds_the_store(tmp_path):
    home = tmp_path / "home"
    store = open_store(home)
    store.create_run({"dataset": "digits"}, status="finished")  # run 1: what the holder touches
    store.close()
    holder = _hold(home / "runs.sqlite")
    held = time.monotonic()
    out = tmp_path / "m.pt"
    env = {**os.environ, "LSTM_DESKTOP_HOME": str(home), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    train = subprocess.Popen([PYTHON, "-m", "lstm_desktop", "train", *TINY, "--epochs", "3", "--device", "cpu",
                              "--out", str(out), "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not out.exists() and train.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # --out is a file: written while the store is still locked, not waiting for it
        assert out.is_file() and holder.poll() is None, train.communicate(timeout=5)
        while time.monotonic() - held < HOLD_S and train.poll() is None:
            time.sleep(0.1)  # hold past the store's 10 s busy timeout in all
        assert train.poll() is None  # the training waits to be recorded, it does not give up
    finally:
        _release(holder)
    stdout, stderr = train.communicate(timeout=120)
    assert train.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr and "database is locked" not in stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    store = open_store(home)
    run = store.get_run(summary["run_id"])
    assert run.status is RunStatus.FINISHED and run.epochs_done == 3 and run.accuracy == summary["accuracy"]
    assert store.get_curves(run.id)["epoch"] == [1.0, 2.0, 3.0]
    assert store.absolute(run.checkpoint_path).is_file()


def test_writes_queue_in_order_while_the_store_is_locked_and_never_raise(tmp_path):
    store = open_store(tmp_path)
    run = store.create_run({"dataset": "digits"}, status="running")
    holder = _hold(tmp_path / "runs.sqlite")
    writer = StoreWriter(store)
    try:
        for epoch in range(1, 4):  # each returns at once: nothing waits for the lock here
            writer.write(store.append_curves, run.id, {"epoch": [float(epoch)]}, epochs_done=epoch)
        writer.write(store.update, run.id, status="finished")
        assert writer.pending == 4 and writer.waited
    finally:
        _release(holder)
    assert writer.flush(timeout=60)
    writer.close()
    again = open_store(tmp_path).get_run(run.id)
    assert again.status is RunStatus.FINISHED and again.epochs_done == 3
    assert open_store(tmp_path).get_curves(run.id)["epoch"] == [1.0, 2.0, 3.0]


def test_edits_on_a_locked_store_return_at_once_and_land_when_it_is_free(tmp_path):
    """What the window does (rename, notes, tags, trash) must not stall or raise on the GUI thread."""
    store = open_store(tmp_path)
    runs = [store.create_run({"dataset": "digits"}, status="finished") for _ in range(2)]
    holder = _hold(tmp_path / "runs.sqlite")
    try:
        store.rename(runs[0].id, "renamed")  # each returns at once, without "database is locked"
        store.set_notes(runs[0].id, "a note")
        store.set_tags(runs[0].id, ["a", "b"])
        store.delete(runs[1].id)
        assert store.get_run(runs[0].id).name == "Run 1"  # not yet: the lock is held
    finally:
        _release(holder)
    assert store.flush_edits(timeout=60)
    again = open_store(tmp_path)
    first = again.get_run(runs[0].id)
    assert (first.name, first.notes, first.tags) == ("renamed", "a note", ("a", "b"))
    assert [r.id for r in again.trashed_runs()] == [runs[1].id]
