"""The open window notices runs other processes add to its run store, without a restart (issue 27:
"the open window does not show runs made by the CLI until restarted")."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTICE_MS = 2_000  # the window must list a run within 2 s of its row being committed


def stored_ids(db: Path) -> set[int]:
    conn = sqlite3.connect(str(db), timeout=10)
    try:
        return {int(r[0]) for r in conn.execute("SELECT id FROM runs WHERE deleted_at IS NULL")}
    finally:
        conn.close()


def table_ids(window) -> set[int]:
    model = window.runs_panel.model
    return {model.run_at(row).id for row in range(model.rowCount())}


def test_a_cli_run_appears_in_the_open_window_and_its_end_follows(qtbot, window, tmp_path):
    store = window.store
    assert store is not None
    before = stored_ids(store.path)
    assert table_ids(window) == before
    env = dict(os.environ, LSTM_DESKTOP_HOME=str(store.home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "lstm_desktop", "train", "--dataset", "digits", "--epochs", "1",
                             "--device", "cpu", "--hidden", "8", "--threads", "1", "--quiet", "--no-download",
                             "--out", str(tmp_path / "cli.pt")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: bool(stored_ids(store.path) - before) or proc.poll() is not None, timeout=120_000)
        new = stored_ids(store.path) - before
        assert len(new) == 1, proc.communicate()[1] if proc.poll() is not None else "no run was created"
        (run_id,) = new
        qtbot.waitUntil(lambda: run_id in table_ids(window), timeout=NOTICE_MS)
        run = window.runs[run_id]
        assert run.source == "cli"
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # the run's end (status, metrics) reaches the window too
    qtbot.waitUntil(lambda: str(window.runs[run_id].status) == "finished", timeout=NOTICE_MS + 1_000)
    assert window.runs[run_id].metrics is not None and window.runs[run_id].epochs_done == 1


def test_a_run_trashed_by_another_process_leaves_the_table(qtbot, window, tiny_config):
    with qtbot.waitSignal(window.trainingFinished, timeout=120_000):
        run = window.start_training(tiny_config(epochs=1))
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    assert run.id in table_ids(window)
    env = dict(os.environ, LSTM_DESKTOP_HOME=str(window.store.home), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "lstm_desktop", "runs", "rm", str(run.id)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    qtbot.waitUntil(lambda: run.id not in table_ids(window), timeout=NOTICE_MS)


def test_the_reader_reports_only_what_changed_since_its_last_read(tmp_path, qapp):
    from lstm_desktop.core.runs.store import open_store
    from lstm_desktop.ui.store_watch import RowReader

    store = open_store(tmp_path / "home")
    kept = store.create_run(None, source="cli", name="kept")
    reader = RowReader(store.path, {kept.id})
    try:
        assert reader.poll() is None  # the first read finds only what the window loaded
        assert reader.poll() is None  # nothing committed since
        added = store.create_run(None, source="cli", name="added")
        runs, gone, _ = reader.poll()
        assert [r.id for r in runs] == [added.id] and gone == []
        store.rename(kept.id, "renamed")
        runs, gone, _ = reader.poll()
        assert [(r.id, r.name) for r in runs] == [(kept.id, "renamed")] and gone == []
        store.delete(added.id)
        runs, gone, _ = reader.poll()
        assert runs == [] and gone == [added.id]
    finally:
        reader.close()
        store.close()


def test_a_read_older_than_the_windows_own_writes_never_overwrites_them(tmp_path, qapp):
    from lstm_desktop.core.runs.evented_runs import Run, Runs, RunStatus
    from lstm_desktop.ui.store_watch import StoreWatch

    mine = Run(1, "mine", RunStatus.FINISHED)
    other = Run(2, "other", RunStatus.RUNNING)
    runs = Runs([mine, other])
    written_at = 100.0  # when the window's last write to run 1 was in the store
    watch = StoreWatch(tmp_path / "runs.sqlite", runs, skip=lambda rid, read_at: rid == 1 and read_at < written_at)
    stale_mine, newer_other = Run(1, "mine", RunStatus.RUNNING), Run(2, "other", RunStatus.FINISHED)
    watch.apply([stale_mine, newer_other], [], 99.0)
    assert mine.status is RunStatus.FINISHED  # the stale row was ignored
    assert other.status is RunStatus.FINISHED  # another process's change was taken
    watch.apply([Run(1, "mine again", RunStatus.FINISHED)], [], 101.0)
    assert mine.name == "mine again"
    watch.apply([], [2], 101.0)
    assert 2 not in runs and 1 in runs
