"""File > Export model as ONNX… and File > Export run data…: the window exports a trained run's model
as ONNX only after onnxruntime agreed on its test set, says how to install the extras when they are
missing, and writes the selected runs' (or every run's) data as CSV or JSON."""

from __future__ import annotations

import csv
import json
import sys

import pytest

from ui_helpers import TRAIN_TIMEOUT_MS


def train(qtbot, window, config):
    with qtbot.waitSignal(window.trainingFinished, timeout=TRAIN_TIMEOUT_MS):
        record = window.start_training(config)
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    return record


def test_export_onnx_from_the_window_is_checked_then_said(qtbot, window, tmp_path, tiny_config):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    record = train(qtbot, window, tiny_config(epochs=1, cell="gru", bidirectional=True))
    assert window.findChild(type(window.export_onnx_action), "exportOnnxAction") is window.export_onnx_action
    with qtbot.waitSignal(window.files.exports.onnxExported, timeout=TRAIN_TIMEOUT_MS) as done:
        assert window.files.export_onnx(record.id, tmp_path / "m.onnx") is not None
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    result = done.args[0]
    assert result.check.on_test_set and result.check.mismatches == 0
    assert window.state_label.text().startswith("Exported the model to") and "same class on 359" in \
        window.state_label.text()
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert json.loads(meta["run"])["id"] == record.id and meta["dataset"] == "digits"


def test_export_onnx_without_the_extras_says_how_to_install(qtbot, window, tmp_path, tiny_config, monkeypatch):
    record = train(qtbot, window, tiny_config(epochs=1))
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert window.files.export_onnx(record.id, tmp_path / "m.onnx") is None
    assert "pip install 'lstm-desktop[onnx]'" in window.error_banner.text and not (tmp_path / "m.onnx").exists()


def test_export_run_data_writes_the_selection_or_every_run(qtbot, window, tmp_path, tiny_config):
    first = train(qtbot, window, tiny_config(epochs=2))
    second = train(qtbot, window, tiny_config(epochs=2, lr=0.02))
    window.runs_panel.select(second.id)
    path = window.files.export_run_data(tmp_path / "sel.csv")
    rows = list(csv.DictReader(open(path)))
    assert {r["run_id"] for r in rows} == {str(second.id)} and len(rows) == 2
    path = window.files.export_run_data(tmp_path / "all.json", selected_only=False)
    records = json.loads(path.read_text())
    assert [r["id"] for r in records] == [first.id, second.id]
    assert all(len(r["curves"]["val_accuracy"]) == 2 and r["best_epoch"] in (1, 2) for r in records)
