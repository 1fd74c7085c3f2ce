"""Train with MNIST missing and no internet: a message on the data banner with the ways out, and no
failed run in the table (the download comes first; a run exists only once the data is there)."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_train_without_data_or_internet_records_no_run(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_DESKTOP_MNIST_MIRROR", "http://127.0.0.1:9/")  # nothing listens there
    window.config_panel.set_dataset("mnist")
    window.config_panel.set_data_dir(str(tmp_path / "MNIST_data"))
    runs_before = len(window.runs)
    for _attempt in range(2):
        with qtbot.waitSignal(window.downloadFinished, timeout=60_000) as blocker:
            qtbot.mouseClick(window.controls.train_button, Qt.MouseButton.LeftButton)
        assert blocker.args == [False]
        qtbot.waitUntil(lambda: not window.running_threads(), timeout=30_000)
    assert len(window.runs) == runs_before, "a failed download is not a failed run"
    assert not window.error_banner.isVisible(), "the red toast over Results is for runs, not for missing data"
    banner = window.data_banner
    assert banner.kind == "error" and "Could not download" in banner.text
    assert banner.choose_button.isVisible(), "a way to point at the data"
    assert "--" not in banner.text, "the window names its own controls, not command-line flags"
    assert not (tmp_path / "MNIST_data").exists(), "no empty MNIST/raw left to nest a later copy into"
