"""The window starts with anything in its settings file: each bad value is ignored (and logged), the
good ones are kept, and the window becomes ready with Train enabled."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QSettings


BAD = [
    {"train/config": "[1, 2, 3]"},  # a list where the settings object goes
    {"train/config": "{not json"},
    {"train/config": json.dumps({"hidden": "many", "lr": 1e9, "epochs": 7, "dataset": "cifar"})},
    {"plots/smoothing": "abc", "plots/log": "maybe"},
    {"window/tab": "seven", "window/geometry": "garbage", "files/last_dir": "5"},
]


@pytest.mark.parametrize("values", BAD, ids=lambda v: ",".join(v))
def test_bad_settings_are_ignored(qtbot, make_window, tmp_path, values):
    path = tmp_path / "bad.ini"
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    for key, value in values.items():
        settings.setValue(key, value)
    settings.sync()
    window = make_window(settings_path=path)
    assert window.is_ready
    assert window.config_panel.validation_error() is None
    assert window.controls.train_button.isEnabled()
    if "epochs" in values.get("train/config", ""):
        assert window.config_panel.values()["epochs"] == 7  # the good value survives
    if "plots/smoothing" in values:
        assert window.plots.smoothing == 0.9
