"""One bad row never hides the others: a status this version does not know, invalid JSON in a
row's metrics, tags, config or info, a curve blob that is not whole float64 points, and junk in a
number column are read as damaged values with a note, in the CLI and in what the window reads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from lstm_desktop.core.training.metrics import Metrics
from lstm_desktop.core.runs.evented_runs import Runs, RunStatus
from lstm_desktop.core.runs.store import open_store

from fault_helpers import json_lines

pytestmark = pytest.mark.timeout(120)

BAD = {  # case -> SQL that damages run 2 (every other run stays good)
    "unknown-status": "UPDATE runs SET status = 'exploded' WHERE id = 2",
    "metrics-json": "UPDATE runs SET metrics = '{\"accuracy\": 0.9,' WHERE id = 2",
    "metrics-shape": "UPDATE runs SET metrics = '[1, 2]' WHERE id = 2",
    "tags-json": "UPDATE runs SET tags = '[\"a\", ' WHERE id = 2",
    "config-json": "UPDATE runs SET config = 'not json' WHERE id = 2",
    "info-json": "UPDATE runs SET info = '{' WHERE id = 2",
    "curve-blob": "UPDATE curves SET data = X'0102030405' WHERE run_id = 2 AND name = 'val_loss'",
    "number-junk": "UPDATE runs SET seconds = 'soon', epochs_done = 'many' WHERE id = 2",
}


def _store_with_a_bad_row(tmp_path: Path, case: str) -> Path:
    home = tmp_path / "home"
    store = open_store(home)
    metrics = Metrics(0.9, 0.9, 0.9, 0.9, [], [], 10)
    for i in range(3):
        run = store.create_run({"dataset": "digits", "epochs": 2}, status="finished", tags=["t"])
        store.append_curves(run.id, {"val_loss": [1.0, 0.5], "epoch": [1.0, 2.0]}, metrics=metrics, seconds=1.5)
    store.close()
    conn = sqlite3.connect(home / "runs.sqlite")
    conn.execute(BAD[case])
    conn.commit()
    conn.close()
    return home


@pytest.mark.parametrize("case", sorted(BAD))
def test_one_bad_row_never_hides_the_others(case, tmp_path, cli):
    home = _store_with_a_bad_row(tmp_path, case)

    r = cli("runs", "list")
    assert r.code == 0 and "Traceback" not in r.err, r
    lines = [line for line in r.out.splitlines()[1:] if line.strip()]
    assert [int(line.split()[0]) for line in lines] == [1, 2, 3], r

    r = cli("runs", "list", "--json")
    assert r.code == 0, r
    listed = json_lines(r.out)
    assert [d["id"] for d in listed] == [1, 2, 3] and listed[0]["accuracy"] == listed[2]["accuracy"] == 0.9
    bad = listed[1]
    if case not in ("curve-blob", "info-json"):  # neither is read by a list
        assert "damaged" in bad["message"].lower(), bad
    if case == "unknown-status":
        assert bad["status"] == "damaged" and "exploded" in bad["message"]

    for run_id in (1, 2, 3):
        shown = cli("runs", "show", str(run_id), "--json")
        assert shown.code == 0 and "Traceback" not in shown.err, shown
        d = json.loads(shown.out)
        if run_id != 2 or case != "curve-blob":
            assert d["curves"]["epoch"] == [1.0, 2.0]
    shown = json.loads(cli("runs", "show", "2", "--json").out)
    if case == "info-json":
        assert "not valid JSON" in shown["info"]["damage"]
    if case == "curve-blob":
        assert "val_loss" not in shown["curves"] and "damaged" in " ".join(shown["curves"]["damage"])
    text = cli("runs", "show", "2")
    assert text.code == 0 and "Traceback" not in text.err, text

    store = open_store(home)  # what the window reads: every run, each with its label and curves
    runs = Runs(store.load_runs())
    assert len(runs) == 3
    for run in runs:
        assert run.label and run.summary()["id"] == run.id
        store.fill_curves(run)
    if case == "curve-blob":
        assert "damaged" in runs[2].message.lower()
    good = runs[1]
    assert good.status is RunStatus.FINISHED and good.accuracy == 0.9 and good.tags == ("t",)


def test_a_status_filter_still_works_beside_an_unknown_status(tmp_path, cli):
    _store_with_a_bad_row(tmp_path, "unknown-status")
    r = cli("runs", "list", "--status", "damaged", "--json")
    assert r.code == 0 and [d["id"] for d in json_lines(r.out)] == [], r  # stored 'exploded': not 'damaged'
    r = cli("runs", "list", "--status", "finished", "--json")
    assert [d["id"] for d in json_lines(r.out)] == [1, 3], r


@pytest.mark.parametrize("case", ["unknown-status", "metrics-json", "number-junk", "config-json"])
def test_the_window_runs_table_shows_every_row(case, tmp_path, qtbot):
    from PySide6.QtCore import Qt

    from lstm_desktop.ui.runs_table_model import SORT_ROLE, RunsTableModel

    store = open_store(_store_with_a_bad_row(tmp_path, case))
    model = RunsTableModel(Runs(store.load_runs()))
    assert model.rowCount() == 3
    for row in range(3):
        for col in range(model.columnCount()):
            index = model.index(row, col)
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, SORT_ROLE):
                model.data(index, role)
    tip = model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
    assert "Damaged in the run store" in tip, tip
