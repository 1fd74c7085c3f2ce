"""The run store: round trips, curves, filters, trash, interrupted runs, schema versions, corruption,
and two processes writing at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lstm_desktop.core.models.checkpoint import Checkpoint, save_checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.errors import StoreError
from lstm_desktop.core.training.metrics import ClassMetrics, Metrics
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
from lstm_desktop.core.runs.run_lock import RunLock
from lstm_desktop.core.runs.evented_runs import RunStatus
from lstm_desktop.core.runs.store import open_store
from lstm_desktop.core.runs.store_schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
CONFIG = TrainConfig.for_dataset("digits", hidden=16, epochs=3)


def metrics(accuracy: float = 0.9) -> Metrics:
    per = [ClassMetrics(i, 0.9, 0.8, 0.85, 10) for i in range(10)]
    return Metrics(accuracy, 0.9, 0.8, 0.85, per, [[10 if i == j else 0 for j in range(10)] for i in range(10)], 100)


def test_a_run_round_trips_with_its_curves_metrics_and_relative_checkpoint(tmp_path):
    store = open_store(tmp_path)
    run = store.create_run(CONFIG, source="cli", device="cpu")
    assert run.id == 1 and run.name == "Run 1" and run.status is RunStatus.RUNNING
    assert store.run_dir(1).is_dir() and run.config == CONFIG and run.variant == "LSTM (16)" and run.created
    assert store.list_runs(dataset="digits")[0].epochs_total == 3
    store.append_curves(1, {"batch_x": [0.5, 1.0], "batch_loss": [2.0, 1.5], "epoch": [1.0], "val_loss": [1.4],
                            "gradient_flow": [(1.0, [0.1, 0.2, 0.3])]})
    store.append_curves(1, {"batch_x": [1.5, 2.0], "batch_loss": [1.2, 1.1], "epoch": [2.0], "val_loss": [1.0],
                            "probe": [(2.0, [0.1] * 10)], "gradient_flow": [(2.0, [0.4, 0.5, 0.6, 0.7])]},
                        epochs_done=2, checkpoint_path=store.run_dir(1) / "model.pt")
    store.update(1, metrics=metrics(0.875), status="finished", tags=["a", "b"], seconds=1.5)
    store.close()

    again = open_store(tmp_path)
    [got] = again.list_runs()
    assert got.status is RunStatus.FINISHED and got.accuracy == 0.875 and got.epochs_done == 2
    assert got.metrics.confusion[3][3] == 10 and got.metrics.per_class[9].support == 10
    assert got.tags == ("a", "b") and got.seconds == 1.5 and got.device == "cpu"
    assert got.checkpoint_path == "runs/1/model.pt"
    assert again.absolute(got.checkpoint_path) == tmp_path / "runs/1/model.pt"
    assert got.history == {}  # listing never reads curves
    curves = again.get_curves(1)
    assert curves["batch_x"] == [0.5, 1.0, 1.5, 2.0] and curves["batch_loss"] == [2.0, 1.5, 1.2, 1.1]
    assert curves["epoch"] == [1.0, 2.0] and curves["val_loss"] == [1.4, 1.0]
    assert curves["probe"] == [(2.0, [0.1] * 10)]
    assert curves["gradient_flow"] == [(1.0, [0.1, 0.2, 0.3]), (2.0, [0.4, 0.5, 0.6, 0.7])]
    assert again.fill_curves(got).history["val_loss"] == [1.4, 1.0] and got.probe == curves["probe"]


def test_filters_find_by_name_and_editing(tmp_path):
    store = open_store(tmp_path)
    a = store.create_run(CONFIG, status="finished")
    b = store.create_run(TrainConfig.for_dataset("synthetic"), status="failed", dataset="synthetic")
    store.rename(a.id, "  Long   lag  ")
    store.set_notes(b.id, "diverged at lr 0.1")
    store.set_tags(a.id, ["keep", "", "keep", "best"])
    assert [r.id for r in store.list_runs(dataset="synthetic")] == [b.id]
    assert [r.id for r in store.list_runs(status="finished")] == [a.id]
    assert [r.id for r in store.list_runs(text="DIVERGED")] == [b.id]  # LIKE is case-insensitive
    assert [r.id for r in store.list_runs(text="best")] == [a.id]
    assert store.find("long lag").id == a.id and store.find(str(b.id)).id == b.id
    assert store.get_run(a.id).tags == ("keep", "best")
    with pytest.raises(StoreError, match="no run 99"):
        store.find("99")
    with pytest.raises(StoreError):
        store.rename(a.id, "   ")


def test_trash_restore_purge_and_a_training_run_cannot_be_deleted(tmp_path):
    store = open_store(tmp_path)
    done = store.create_run(CONFIG, status="finished")
    (store.run_dir(done.id) / "model.pt").write_bytes(b"x")
    store.delete(done.id)
    assert store.list_runs() == [] and [r.id for r in store.trashed_runs()] == [done.id]
    store.restore(done.id)
    assert [r.id for r in store.list_runs()] == [done.id]
    store.delete(done.id)
    assert store.empty_trash() == 1
    assert not store.run_dir(done.id).exists() and store.trashed_runs() == []
    training = store.create_run(CONFIG, status="running")
    lock = RunLock(store.run_dir(training.id))
    assert lock.try_acquire()
    try:
        with pytest.raises(StoreError, match="still training"):
            store.delete(training.id)
    finally:
        lock.release()
    assert store.create_run(CONFIG).id == training.id + 1  # ids are never reused


def test_open_marks_only_unlocked_active_runs_interrupted(tmp_path):
    store = open_store(tmp_path)
    dead = store.create_run(CONFIG, status="running", epochs_done=2, checkpoint_path="runs/1/model.pt")
    alive = store.create_run(CONFIG, status="running")
    queued = store.create_run(CONFIG, status="queued")
    done = store.create_run(CONFIG, status="finished")
    lock = RunLock(store.run_dir(alive.id))
    assert lock.try_acquire()
    try:
        reopened = open_store(tmp_path)
        status = {r.id: r.status for r in reopened.list_runs()}
    finally:
        lock.release()
    assert status == {dead.id: RunStatus.INTERRUPTED, alive.id: RunStatus.RUNNING,
                      queued.id: RunStatus.INTERRUPTED, done.id: RunStatus.FINISHED}
    got = reopened.get_run(dead.id)
    assert got.epochs_done == 2 and got.checkpoint_path == "runs/1/model.pt" and got.ended and "ended" in got.message
    assert open_store(tmp_path).get_run(alive.id).status is RunStatus.INTERRUPTED  # its lock is free now


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    open_store(tmp_path).close()
    db = tmp_path / "runs.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError) as info:
        open_store(tmp_path)
    assert "newer lstm-desktop" in info.value.message and f"schema {SCHEMA_VERSION + 1}" in info.value.message
    assert "\n" not in info.value.message and db.read_bytes() == before


def _tiny_checkpoint(path: Path) -> None:
    spec = ModelSpec(input_size=8, seq_len=8, hidden=4)
    save_checkpoint(path, Checkpoint(LSTMClassifier(spec), spec, CONFIG, metrics(0.5),
                                     {"epoch": [1.0, 2.0], "val_loss": [1.0, 0.5]},
                                     info={"epochs": 2, "dataset": "digits", "device": "cpu"}))


@pytest.mark.parametrize("damage", ["garbage", "torn"])
def test_a_corrupt_database_is_moved_aside_and_runs_come_back_from_their_folders(tmp_path, damage):
    store = open_store(tmp_path)
    for _ in range(30):
        run = store.create_run(CONFIG, status="finished", notes="x" * 2000)
    _tiny_checkpoint(store.run_dir(run.id) / "model.pt")
    for name in ("run.json", "curves.jsonl"):  # the last run's folder as an older version left it: a model only
        (store.run_dir(run.id) / name).unlink(missing_ok=True)
    store.close()
    db = tmp_path / "runs.sqlite"
    data = bytearray(db.read_bytes())
    if damage == "garbage":
        data = bytearray(b"this is not a database" * 100)
    else:  # overwrite pages in the middle of the file (the runs table's b-tree)
        data[4096:len(data) - 4096] = b"\xff" * (len(data) - 8192)
    db.write_bytes(bytes(data))
    fresh = open_store(tmp_path)
    assert "damaged" in fresh.notice and "moved aside" in fresh.notice
    aside = list(tmp_path.glob("runs.sqlite.corrupt-*"))
    assert aside and aside[0].read_bytes()[:22] == bytes(data[:22])
    assert fresh.integrity_check() == "ok"
    runs = fresh.list_runs()  # every run, from its folder's run.json; the last from its model file
    assert [r.id for r in runs] == list(range(1, 31)) and all(r.notes == "x" * 2000 for r in runs[:-1])
    recovered = runs[-1]
    assert recovered.id == run.id and recovered.status is RunStatus.FINISHED and recovered.accuracy == 0.5
    assert (fresh.run_dir(run.id) / "model.pt").is_file() and fresh.get_curves(run.id)["val_loss"] == [1.0, 0.5]
    assert fresh.create_run(CONFIG).id == run.id + 1


HAMMER = textwrap.dedent("""
    import sys
    from lstm_desktop.core.runs.store import open_store
    store = open_store(sys.argv[1])
    for i in range(int(sys.argv[2])):
        run = store.create_run({"dataset": "digits"}, source=sys.argv[3])
        for epoch in range(3):
            store.append_curves(run.id, {"batch_loss": [float(i)] * 50, "epoch": [epoch + 1.0]},
                                epochs_done=epoch + 1)
        store.update(run.id, status="finished")
        store.list_runs()
""")


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    open_store(tmp_path).close()
    n = 60
    procs = [subprocess.Popen([sys.executable, "-c", HAMMER, str(tmp_path), str(n), name], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for name in ("one", "two")]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    store = open_store(tmp_path)
    runs = store.list_runs()
    assert len(runs) == 2 * n and {r.source for r in runs} == {"one", "two"}
    assert all(r.status is RunStatus.FINISHED and r.epochs_done == 3 for r in runs)
    assert all(len(store.get_curves(r.id)["batch_loss"]) == 150 for r in runs[::7])
    assert store.integrity_check() == "ok"


def test_a_model_file_opened_in_the_window_is_recorded_where_it_is(tmp_path):
    store = open_store(tmp_path / "home")
    outside = tmp_path / "mine.pt"
    run_id = store.add_opened("mine.pt", CONFIG, {"source": "opened", "status": RunStatus.FINISHED,
                                                  "history": {"epoch": [1.0, 2.0], "val_loss": [0.5, 0.4]},
                                                  "metrics": metrics(0.75), "checkpoint_path": str(outside),
                                                  "epochs_done": 2, "seconds": None, "extra": {"x": 1}})
    run = store.get_run(run_id)
    assert (run.name, run.source, run.status, run.accuracy) == ("mine.pt", "opened", RunStatus.FINISHED, 0.75)
    assert run.checkpoint_path == str(outside) and store.absolute(run.checkpoint_path) == outside
    assert store.get_curves(run_id)["val_loss"] == [0.5, 0.4]


def test_new_ids_skip_existing_folders_without_listing_them_on_every_insert(tmp_path, monkeypatch):
    from lstm_desktop.core.runs.store import open_store

    store = open_store(tmp_path)
    (tmp_path / "runs" / "3").mkdir(parents=True)  # a folder left by a store started afresh
    listed = []
    real_glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: listed.append(self) or real_glob(self, pattern))
    ids = [store.create_run(TrainConfig(dataset="digits")).id for _ in range(6)]
    assert ids == [1, 2, 4, 5, 6, 7]  # 3's folder is another run's: never handed out
    assert len([p for p in listed if p.name == "runs"]) == 1  # listed once, when the next id's folder existed
    store.close()


def test_a_store_that_answers_busy_once_at_open_is_opened_on_the_next_try(tmp_path, monkeypatch):
    from lstm_desktop.core.runs import store_recovery
    from lstm_desktop.core.runs.store import open_store

    real_check, calls = store_recovery.check, []

    def busy_once(store):
        calls.append(1)
        if len(calls) == 1:  # what a second process opening a new store at the same moment can get
            raise sqlite3.OperationalError("database is locked")
        return real_check(store)

    monkeypatch.setattr(store_recovery, "check", busy_once)
    store = open_store(tmp_path)
    assert len(calls) == 2 and store.create_run(TrainConfig(dataset="digits")).id == 1
    store.close()


def test_a_store_that_stays_busy_at_open_is_a_message(tmp_path, monkeypatch):
    from lstm_desktop.core.runs import store_recovery
    from lstm_desktop.core.runs.store import open_store

    def always_busy(store):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store_recovery, "check", always_busy)
    with pytest.raises(StoreError, match="stayed locked by another process"):
        open_store(tmp_path)
