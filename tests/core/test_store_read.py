"""The run store's reads for many runs at once: one query for a selection's curves gives what each
run's own read gives, plain curves for best-epoch figures, and nobody outside the store modules
touches its connection."""

from __future__ import annotations

import math
import re
from pathlib import Path

from lstm_desktop.core.runs.run_data import best_epochs
from lstm_desktop.core.runs.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def fill(store, count: int) -> dict[int, dict]:
    """`count` runs whose curves are appended in two chunks (epochs 1-2, then 3), as training does;
    returns what each run's curves should read as, built here from the values written."""
    expected = {}
    for k in range(count):
        run = store.create_run(None, source="cli")
        first = {"epoch": [1.0, 2.0], "val_accuracy": [0.5 + k / 100, 0.6], "batch_loss": [2.0 - k, 1.0],
                 "probe": [(2.0, [k / 10] * 10)]}
        second = {"epoch": [3.0], "val_accuracy": [0.55 + k / 1000], "gradient_flow": [(3.0, [0.1 * k, 0.2])]}
        store.append_curves(run.id, first)
        if k % 3 != 2:  # every third run stops after two epochs
            store.append_curves(run.id, second)
            expected[run.id] = {"epoch": [1.0, 2.0, 3.0], "val_accuracy": [0.5 + k / 100, 0.6, 0.55 + k / 1000],
                                "batch_loss": [2.0 - k, 1.0], "probe": [(2.0, [k / 10] * 10)],
                                "gradient_flow": [(3.0, [0.1 * k, 0.2])]}
        else:
            expected[run.id] = {**first, "gradient_flow": []}
    return expected


def test_one_query_for_many_runs_reads_what_each_run_holds(tmp_path):
    store = open_store(tmp_path)
    expected = fill(store, 7)
    ids = list(expected)
    together = store.curves_of([ids[4], ids[0], ids[2], ids[0], 999])
    assert list(together) == [ids[4], ids[0], ids[2], 999]  # asked order, once each
    for run_id in (ids[4], ids[0], ids[2]):
        assert together[run_id] == expected[run_id]
        assert store.get_curves(run_id) == expected[run_id]  # the one-run read agrees
    assert together[999] == {"probe": [], "gradient_flow": []}  # no such run: no curves, no error


def test_filling_a_selection_at_once_fills_each_run(tmp_path):
    store = open_store(tmp_path)
    expected = fill(store, 5)
    runs = store.list_runs()
    assert all(not r.history for r in runs)
    store.fill_curves_of(runs)
    for run in runs:
        want = dict(expected[run.id])
        assert run.probe == want.pop("probe") and run.gradient_flow == want.pop("gradient_flow")
        assert run.history == want


def test_plain_curves_read_only_the_named_plain_curves(tmp_path):
    store = open_store(tmp_path)
    expected = fill(store, 4)
    every = store.plain_curves(["val_accuracy", "epoch", "probe"])
    assert set(every) == set(expected)
    for run_id, curves in every.items():
        assert set(curves) == {"val_accuracy", "epoch"}  # a grid curve is not a plain one
        assert list(curves["val_accuracy"]) == expected[run_id]["val_accuracy"]
        assert list(curves["epoch"]) == expected[run_id]["epoch"]
    some = list(expected)[1:3]
    assert set(store.plain_curves(["epoch"], some)) == set(some)
    assert store.plain_curves(["probe"]) == {}


def test_best_epochs_over_more_ids_than_one_query_takes(tmp_path):
    """1,000 ids are read in two queries (SQLite binds at most 999 values in old builds)."""
    store = open_store(tmp_path)
    expected = fill(store, 4)
    asked = [*range(10_000, 10_998), *expected]
    got = best_epochs(store, asked)
    for run_id, curves in expected.items():
        values = curves["val_accuracy"]
        i = max(range(len(values)), key=lambda j: (values[j], -j))
        assert got[run_id][1] == int(curves["epoch"][i]) and math.isclose(got[run_id][0], values[i])
    assert set(got) == set(expected)


def test_nothing_outside_the_store_modules_touches_its_connection():
    pattern = re.compile(r"\._conn\(|\._local\b")
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "lstm_desktop").rglob("*.py")
                 if not re.match(r"store(_\w+)?\.py$", p.name) or p.parent.name != "runs"
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
