"""Runs last: trained in the window or on the command line, they are all listed after a relaunch,
with their curves and metrics, their models open on the pad; several can be compared; deleting
moves a run to the trash, from where it comes back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt

from ui_helpers import train

ROOT = Path(__file__).resolve().parents[2]


def test_two_window_runs_and_a_cli_run_are_all_there_after_a_relaunch(qtbot, make_window, tmp_path, tiny_config):
    home = os.environ["LSTM_DESKTOP_HOME"]
    first = make_window(settings_path=tmp_path / "a.ini")
    a = train(qtbot, first, tiny_config(epochs=2, hidden=12))
    b = train(qtbot, first, tiny_config(epochs=1, hidden=20, dataset="synthetic"))
    assert (a.status, b.status) == ("finished", "finished")
    first.close()
    qtbot.waitUntil(lambda: not first.isVisible(), timeout=10_000)

    env = dict(os.environ, LSTM_DESKTOP_HOME=home)
    proc = subprocess.run([sys.executable, "-m", "lstm_desktop", "train", "--dataset", "digits", "--hidden", "8",
                           "--epochs", "1", "--threads", "1", "--out", str(tmp_path / "cli.pt")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

    second = make_window(settings_path=tmp_path / "a.ini")
    runs = {r.id: r for r in second.runs}
    assert len(runs) == 3
    sources = sorted(r.source for r in runs.values())
    assert sources == ["cli", "window", "window"]
    for run in runs.values():
        assert str(run.status) == "finished" and run.metrics is not None and run.epochs_done >= 1
        second.runs_panel.select(run.id)  # selecting loads its curves from the store
        assert run.history.get("epoch") and len(run.history.get("batch_loss", [])) > 0
        assert second.results.comparison.curve_count() > 0  # Results draws them; the Train tab does not
        assert second.plots.counts()["epochs"] == 0
    # each model opens on the pad (the digits models read 8x8 inputs: the pad says it cannot read drawings)
    for run in runs.values():
        second.use_on_pad(run)
        assert second.pad_panel.model_label.text().startswith("Model: " + run.name)
    # the shipped model stays one click away
    selector = second.draw.model_selector
    assert selector.itemText(0).startswith("Shipped model")
    # compare: select all three; two datasets get two plots; the settings that differ are tabulated
    for i, run_id in enumerate(sorted(runs)):
        second.runs_panel.select(run_id, add=i > 0)
    assert sorted(second.runs_panel.selected_ids()) == sorted(runs)
    assert second.results.comparison.datasets == ["digits", "synthetic"] or \
        sorted(second.results.comparison.datasets) == ["digits", "synthetic"]
    second.results.compare_tabs.setCurrentWidget(second.results.hyperparams)  # built when looked at
    columns = second.results.hyperparams.columns
    assert "Hidden size" in columns and "Dataset" in columns and "Accuracy" in columns
    assert second.results.hyperparams.rowCount() == 3


def test_rename_filter_delete_and_restore(qtbot, window, tiny_config):
    run = train(qtbot, window, tiny_config(epochs=1))
    window.run_editor.rename(run.id, "my best run")
    assert run.name == "my best run" and window.store.get_run(run.id).name == "my best run"
    panel = window.runs_panel
    panel.search.setText("best")
    assert panel.proxy.rowCount() == 1
    panel.search.setText("no such words")
    assert panel.proxy.rowCount() == 0
    panel.search.clear()
    panel.select(run.id)
    assert window.run_editor.delete_runs([run.id]) == 1
    assert run.id not in window.runs and panel.proxy.rowCount() == 0
    trashed = window.store.trashed_runs()
    assert [r.id for r in trashed] == [run.id]
    window.store.restore(run.id)
    window.runs.add(window.store.get_run(run.id))
    assert window.runs.get(run.id).deleted_at is None
    assert panel.proxy.rowCount() == 1


def test_a_new_run_is_offered_to_the_pad_not_swapped_in(qtbot, window, tiny_config):
    shipped_label = window.pad_panel.model_label.text()
    run = train(qtbot, window, tiny_config(epochs=1, dataset="synthetic", hidden=8))
    assert window.pad_panel.model_label.text() == shipped_label
    action = window.error_banner.action_button
    assert action is not None and run.name in action.text()
    qtbot.mouseClick(action, Qt.MouseButton.LeftButton)
    assert window.pad_panel.model_label.text().startswith("Model: " + run.name)
    assert window.draw.model_selector.currentData() == run.id
    window.draw.model_selector.setCurrentIndex(0)
    window.draw.model_selector.activated.emit(0)
    assert window.pad_panel.model_label.text() == shipped_label


def test_runs_without_a_model_are_hidden_unless_asked_for(qtbot, window):
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.runs.evented_runs import Run, RunStatus

    panel = window.runs_panel
    before = panel.proxy.rowCount()
    failed = Run(window.runs.next_id(), "failed at once", RunStatus.FAILED, TrainConfig(), epochs_done=0)
    window.runs.add(failed)
    kept = Run(window.runs.next_id(), "stopped after 2", RunStatus.STOPPED, TrainConfig(), epochs_done=2)
    window.runs.add(kept)
    assert panel.proxy.rowCount() == before + 1, "a run without a model piles up in the table"
    panel.modelless_check.setChecked(True)
    assert panel.proxy.rowCount() == before + 2
    panel.modelless_check.setChecked(False)
    panel.select(failed.id)  # asked for by id (a link, a test): shown anyway
    assert panel.modelless_check.isChecked() and panel.current_id() == failed.id
