"""`lstm-desktop runs ...` and run ids wherever a model is asked for: a CLI training is listed with
its config, accuracy and checkpoint; show, rm (trash), restore, purge, export, evaluate ID."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run_cli

pytestmark = pytest.mark.usefixtures("one_torch_thread")
LIST_KEYS = ("id", "name", "status", "dataset", "config", "accuracy", "epochs_done", "created", "checkpoint")



@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def trained(capsys, home, tmp_path) -> dict:
    code, out, err = run_cli(capsys, "train", "--dataset", "digits", "--hidden", "16", "--epochs", "1",
                             "--val-size", "100", "--quiet", "--json", "--out", str(tmp_path / "out.pt"))
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (tmp_path / "out.pt").is_file()  # --out is still written as before
    return summary


def test_a_cli_training_is_listed_with_everything_scripts_need(capsys, trained, home):
    code, out, _ = run_cli(capsys, "runs", "list", "--json")
    assert code == 0
    [line] = out.strip().splitlines()
    row = json.loads(line)
    assert all(k in row for k in LIST_KEYS)
    assert row["id"] == trained["run_id"] and row["status"] == "finished" and row["dataset"] == "digits"
    assert row["config"]["hidden"] == 16 and row["epochs_done"] == 1 and row["source"] == "cli"
    assert row["accuracy"] == pytest.approx(trained["accuracy"])
    assert row["checkpoint"] == str(home / "runs" / str(row["id"]) / "model.pt")
    code, out, _ = run_cli(capsys, "runs", "list")
    assert code == 0 and "finished" in out and "LSTM (16)" in out
    code, out, _ = run_cli(capsys, "runs", "show", str(row["id"]))
    assert code == 0 and "Run 1 (run 1)" in out and "accuracy" in out and "model.pt" in out
    assert "  trained by: C kernel" in out or "  trained by: torch" in out  # the step that ran the batches
    code, out, _ = run_cli(capsys, "runs", "show", "1", "--json")
    shown = json.loads(out)
    assert len(shown["curves"]["epoch"]) == 1 and len(shown["metrics"]["confusion"]) == 10


def test_evaluate_and_export_take_a_run_id(capsys, trained, home, tmp_path):
    run_id = str(trained["run_id"])
    code, out, err = run_cli(capsys, "evaluate", run_id, "--json")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["accuracy"] == pytest.approx(trained["accuracy"])
    code, out, err = run_cli(capsys, "runs", "export", run_id, "--out", str(tmp_path / "copy.pt"))
    assert code == 0, err
    assert (tmp_path / "copy.pt").read_bytes() == (home / "runs" / run_id / "model.pt").read_bytes()
    code, _, err = run_cli(capsys, "evaluate", "42")
    assert code == 1 and "neither a checkpoint file nor a run id" in err and len(err.splitlines()) == 2


def test_rm_moves_to_the_trash_restore_brings_back_purge_deletes_the_files(capsys, trained, home):
    run_id = str(trained["run_id"])
    assert run_cli(capsys, "runs", "rm", run_id)[0] == 0
    assert run_cli(capsys, "runs", "list", "--json")[1] == ""
    assert json.loads(run_cli(capsys, "runs", "list", "--trash", "--json")[1])["id"] == int(run_id)
    assert run_cli(capsys, "runs", "restore", run_id)[0] == 0
    assert run_cli(capsys, "runs", "list", "--json")[1].count("\n") == 1
    code, out, _ = run_cli(capsys, "runs", "rm", run_id, "--purge")
    assert code == 0 and "deleted" in out and not (home / "runs" / run_id).exists()
    code, _, err = run_cli(capsys, "runs", "show", run_id)
    assert code == 1 and err.startswith("lstm-desktop runs: error: There is no run") and "Traceback" not in err


def test_an_empty_store_lists_nothing_and_says_where_it_is(capsys, home):
    code, out, _ = run_cli(capsys, "runs", "list")
    assert code == 0 and "no runs stored yet" in out and str(home) in out
    assert run_cli(capsys, "runs", "list", "--json")[1] == ""


def test_classify_takes_a_run_id_as_its_model(capsys, home, tmp_path):
    import numpy as np
    from PIL import Image

    code, out, err = run_cli(capsys, "train", "--dataset", "synthetic", "--hidden", "8", "--epochs", "1", "--quiet",
                             "--json", "--out", str(tmp_path / "s.pt"))
    assert code == 0, err
    run_id = json.loads(out.strip().splitlines()[-1])["run_id"]
    pixels = np.zeros((28, 28), np.uint8)
    pixels[5:23, 12:16] = 255
    Image.fromarray(pixels).save(tmp_path / "one.png")
    code, out, err = run_cli(capsys, "classify", str(tmp_path / "one.png"), "--model", str(run_id), "--json")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["digit"] in range(10) and len(result["probabilities"]) == 10
