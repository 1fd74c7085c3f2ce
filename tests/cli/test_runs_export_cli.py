"""`runs export ID --format onnx` and `runs export-data`: a stored run's model as a checked ONNX file,
its curves and results as CSV/JSON; a missing optional extra is one message with the install line."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from cli_helpers import run_cli

pytestmark = pytest.mark.usefixtures("one_torch_thread")



@pytest.fixture
def two_runs(capsys, tmp_path, monkeypatch) -> list[int]:
    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # the default --out (lstm-model.pt) lands here, never in the checkout
    ids = []
    for extra in (["--cell", "gru", "--layers", "2"], ["--bidirectional", "--lr", "3e-3"]):
        code, out, err = run_cli(capsys, "train", "--dataset", "digits", "--hidden", "8", "--epochs", "2",
                                 "--val-size", "100", "--quiet", "--json", *extra)
        assert code == 0, err
        ids.append(json.loads(out.strip().splitlines()[-1])["run_id"])
    return ids


def test_onnx_export_of_a_run_is_checked_before_it_says_exported(capsys, two_runs, tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    out_file = tmp_path / "model.onnx"
    code, out, err = run_cli(capsys, "runs", "export", str(two_runs[0]), "--format", "onnx", "--out", str(out_file))
    assert code == 0, err
    assert out.startswith("exported ") and "359 samples of the digits test set: same class on 359" in out
    meta = {p.key: p.value for p in onnx.load(str(out_file)).metadata_props}
    assert meta["dataset"] == "digits" and json.loads(meta["model_spec"])["cell"] == "gru"
    code, out, err = run_cli(capsys, "runs", "export", str(two_runs[1]), "--out", str(tmp_path / "m.pt"))
    assert code == 0 and (tmp_path / "m.pt").read_bytes()[:2] == b"PK"  # the .pt copy is unchanged


def test_onnx_export_without_the_extras_says_how_to_install_them(capsys, two_runs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    code, out, err = run_cli(capsys, "runs", "export", str(two_runs[0]), "--out", str(tmp_path / "m.onnx"))
    assert code == 1 and out == "" and "Traceback" not in err
    assert "pip install 'lstm-desktop[onnx]'" in err and not (tmp_path / "m.onnx").exists()


def test_export_data_writes_every_run_or_the_chosen_ones(capsys, two_runs, tmp_path):
    code, out, err = run_cli(capsys, "runs", "export-data", "--out", str(tmp_path / "all.csv"))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO((tmp_path / "all.csv").read_text())))
    assert len(rows) == 4 and {r["run_id"] for r in rows} == {str(i) for i in two_runs}  # 2 runs x 2 epochs
    first = [r for r in rows if r["run_id"] == str(two_runs[0])]
    assert [r["epoch"] for r in first] == ["1.0", "2.0"] and first[0]["cell"] == "gru"
    best = max(float(r["val_accuracy"]) for r in first)
    assert float(first[0]["best_val_accuracy"]) == pytest.approx(best)
    assert first[0]["best_epoch"] == next(str(int(float(r["epoch"]))) for r in first if float(r["val_accuracy"]) == best)
    code, out, err = run_cli(capsys, "runs", "export-data", str(two_runs[1]), "--out", str(tmp_path / "one.json"))
    assert code == 0, err
    [record] = json.loads((tmp_path / "one.json").read_text())
    assert record["id"] == two_runs[1] and len(record["curves"]["val_accuracy"]) == 2
    assert record["metrics"]["accuracy"] == record["accuracy"] and record["best_epoch"] in (1, 2)
    code, out, err = run_cli(capsys, "runs", "export-data", "999", "--out", str(tmp_path / "x.csv"))
    assert code == 1 and "no run 999" in err.lower() and not (tmp_path / "x.csv").exists()
