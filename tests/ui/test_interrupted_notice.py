"""A run a crash or a kill left `interrupted` is told at the next launch of the window, once: what it
kept, and a button that opens it in Results. A run interrupted later is told at the launch after."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from lstm_desktop.core.models.checkpoint import Checkpoint, save_checkpoint
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
from lstm_desktop.core.runs.store import open_store


def dead_run(store, epochs_done: int, epochs: int = 10, model: bool = True) -> int:
    """A run whose process died mid-training: active in the database, its lock free."""
    from lstm_desktop.core.training.config import TrainConfig

    run = store.create_run(TrainConfig(dataset="digits", hidden=8, epochs=epochs, device="cpu"), source="cli")
    fields = dict(epochs_done=epochs_done)
    if model:
        spec = ModelSpec(hidden=8)
        path = save_checkpoint(store.run_dir(run.id) / "model.pt", Checkpoint(LSTMClassifier(spec), spec, None, None))
        fields["checkpoint_path"] = store.relative(path)
    store.update(run.id, **fields)
    return run.id


def notice_text(window) -> str:
    banner = window.error_banner
    return banner.text if banner.isVisible() else ""


def test_interrupted_runs_are_told_once_with_what_they_kept_and_open_in_results(qtbot, make_window, tmp_path):
    store = open_store(os.environ["LSTM_DESKTOP_HOME"])
    finished = store.create_run(None, source="cli", status="finished").id
    kept = dead_run(store, epochs_done=3)
    nothing = dead_run(store, epochs_done=0, epochs=4, model=False)
    store.close()
    settings = tmp_path / "a.ini"

    first = make_window(settings_path=settings)
    text = notice_text(first)
    assert text.startswith("2 runs were interrupted"), text
    assert f"Run {kept}: epoch 3 of 10 kept" in text
    assert f"Run {nothing}: no epoch finished, no model" in text and f"Run {finished}" not in text
    button = first.error_banner.action_button
    assert button.text() == f"Open Run {kept}"  # the latest run that kept a model
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert first.tabs.currentWidget() is first.results
    assert first.results.runs_panel.selected_ids() == [kept]
    first.close()

    second = make_window(settings_path=settings)  # the same runs: not told again
    assert "interrupted" not in notice_text(second)
    second.close()

    store = open_store(os.environ["LSTM_DESKTOP_HOME"])
    later = dead_run(store, epochs_done=1, epochs=2)
    store.close()
    third = make_window(settings_path=settings)
    text = notice_text(third)
    assert text.startswith(f"Run {later} was interrupted") and "epoch (1 of 2) is kept" in text, text
    assert f"Run {kept}" not in text
