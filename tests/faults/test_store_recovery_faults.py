"""A damaged run store loses nothing: every run comes back from its folder (row, config, metrics,
curves, model), a damaged folder becomes one run marked damaged, and the user is told what was repaired."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from lstm_desktop.core.runs.store import open_store

from fault_helpers import TINY, json_lines

pytestmark = pytest.mark.timeout(300)


def _home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def _make_runs(cli, tmp_path: Path) -> None:
    """Two finished trainings, a tagged and renamed one, and a run that never finished an epoch."""
    for i, epochs in enumerate((2, 1)):
        r = cli("train", *TINY, "--epochs", str(epochs), "--device", "cpu", "--seed", str(i),
                "--out", str(tmp_path / f"m{i}.pt"))
        assert r.code == 0, r
    store = open_store(_home(tmp_path))
    store.rename(1, "first of all")
    store.set_tags(1, ["keep", "best"])
    store.set_notes(2, "a note")
    store.create_run({"dataset": "digits", "epochs": 3}, source="cli", status="failed", message="it failed early")
    store.close()


def _snapshot(cli) -> dict[int, dict]:
    r = cli("runs", "list", "--json")
    assert r.code == 0, r
    out = {}
    for line in json_lines(r.out):
        shown = cli("runs", "show", str(line["id"]), "--json")
        assert shown.code == 0, shown
        out[line["id"]] = {"list": line, "show": json.loads(shown.out)}
    return out


def _settle(db: Path) -> None:
    """Fold the WAL into the file, as a closed store leaves it, so the damage hits the real data."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _damage(db: Path, how: str) -> None:
    data = db.read_bytes()
    if how == "truncated":
        db.write_bytes(data[:4096])
    elif how == "zeroed":
        db.write_bytes(b"\0" * len(data))
    else:  # half-cut
        db.write_bytes(data[:len(data) // 2])


@pytest.mark.parametrize("how", ["truncated", "zeroed", "half-cut"])
def test_a_damaged_database_comes_back_with_every_run(how, tmp_path, cli):
    _make_runs(cli, tmp_path)
    before = _snapshot(cli)
    assert len(before) == 3
    db = _home(tmp_path) / "runs.sqlite"
    _settle(db)
    _damage(db, how)

    r = cli("runs", "list")
    assert r.code == 0, r
    assert "Traceback" not in r.err
    notice = [line for line in r.err.splitlines() if line.strip()]
    assert len(notice) == 1 and "repaired" in notice[0] and "3 runs" in notice[0], r
    assert "no runs stored yet" not in r.out
    after = _snapshot(cli)
    assert sorted(after) == sorted(before)  # count and ids
    for run_id, was in before.items():
        assert after[run_id]["list"] == was["list"], run_id
        assert after[run_id]["show"] == was["show"], run_id
    for run_id in (1, 2):
        e = cli("evaluate", str(run_id), "--json")
        assert e.code == 0, e
        assert json_lines(e.out)[-1]["accuracy"] == before[run_id]["show"]["accuracy"]
    assert list(_home(tmp_path).glob("runs.sqlite.corrupt-*"))  # the damaged file is kept aside
    n = cli("train", *TINY, "--epochs", "1", "--device", "cpu", "--out", str(tmp_path / "m9.pt"))
    assert n.code == 0 and json_lines(cli("runs", "list", "--json").out)[-1]["id"] == 4


def test_a_damaged_folder_is_one_damaged_run_and_the_others_come_back(tmp_path, cli):
    _make_runs(cli, tmp_path)
    before = _snapshot(cli)
    home = _home(tmp_path)
    for name in ("run.json", "model.pt", "curves.jsonl"):
        if (home / "runs" / "2" / name).exists():
            (home / "runs" / "2" / name).write_bytes(b"\x00garbage{")
    db = home / "runs.sqlite"
    _settle(db)
    _damage(db, "zeroed")

    r = cli("runs", "list", "--json")
    assert r.code == 0, r
    assert "1 damaged" in r.err and "runs/2" in r.err.replace("\\", "/"), r
    after = {d["id"]: d for d in json_lines(r.out)}
    assert sorted(after) == [1, 2, 3]
    assert after[1] == before[1]["list"] and after[3] == before[3]["list"]
    assert after[2]["status"] == "damaged" and after[2]["message"]
    shown = cli("runs", "show", "2")
    assert shown.code == 0 and "damaged" in shown.out, shown
