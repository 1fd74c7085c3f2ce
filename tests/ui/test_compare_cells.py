"""Training › Compare cells is a guided experiment: its own settings (temporal order's, whatever the
form holds), Stop ends it as a whole, and the user's settings come back afterwards."""

from __future__ import annotations

from PySide6.QtCore import Qt

from lstm_desktop.ui.training_controller import TRAINING


def test_compare_cells_trains_the_tasks_own_settings_and_stop_ends_it_all(qtbot, window):
    panel = window.config_panel
    panel.set_dataset("digits")
    panel.bidirectional_check.setChecked(True)
    panel.attention_check.setChecked(True)
    panel.epochs_spin.setValue(1)
    mine = panel.config()
    runs_before = len(window.runs)
    window.compare_cells_action.trigger()
    first = window.runs.get(window.compare.run_ids[0])
    cfg = first.config
    assert (cfg.dataset, cfg.cell, cfg.bidirectional, cfg.attention) == ("temporal-order", "rnn", False, False)
    assert cfg.epochs == 6 and cfg.hidden == 32, "the lab's own settings, not the form's"
    qtbot.waitUntil(lambda: window.training.state == TRAINING, timeout=60_000)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        qtbot.mouseClick(window.controls.stop_button, Qt.MouseButton.LeftButton)
    qtbot.wait(200)  # a next cell would be started from the event loop: give it the chance
    assert not window.training.is_training(), "Stop stopped one cell and the next one started"
    assert len(window.runs) == runs_before + 1
    assert panel.config() == mine, "the user's own settings came back"


def test_choosing_temporal_order_loads_its_own_settings(window):
    panel = window.config_panel
    panel.bidirectional_check.setChecked(True)
    panel.attention_check.setChecked(True)
    panel.epochs_spin.setValue(1)
    panel.set_dataset("temporal-order")
    values = panel.values()
    assert (values["bidirectional"], values["attention"], values["epochs"], values["hidden"]) == (False, False, 6, 32)
