"""Each dataset brings its own defaults and limits to the form (and, in Results, its own words)."""

from __future__ import annotations


def test_digits_loads_its_own_validation_size_and_refuses_more_than_it_has(qtbot, window):
    panel = window.config_panel
    panel.set_dataset("digits")
    assert panel.val_spin.value() == 200, "the form kept MNIST's 5000 for a set of 1,797 images"
    panel.val_spin.setValue(5000)
    problem = panel.validation_error()
    assert problem and "at most 200" in problem and "1,797" in problem
    assert not window.controls.train_button.isEnabled()
    panel.set_dataset("mnist")  # a value the user typed is theirs: kept, and fine for MNIST
    assert panel.val_spin.value() == 5000 and panel.validation_error() is None


def test_window_messages_name_the_forms_controls_not_cli_flags(window, tmp_path):
    from lstm_desktop.core.data.mnist_files import missing_data_message

    error = missing_data_message(tmp_path)  # the core's hint, written for the command line
    assert "--dataset digits" in error.hint
    window.show_error(error.message, error.hint)
    shown = window.error_banner.text
    assert "--" not in shown, shown
    assert "Dataset: scikit-learn digits" in shown and "Data folder" in shown


def test_temporal_order_results_speak_of_classes_and_sequences(qtbot, window):
    import numpy as np

    from lstm_desktop.core.training.metrics import compute_metrics

    labels = np.array([0, 1, 2, 3, 1, 2])
    preds = np.array([0, 2, 2, 3, 1, 1])
    view = window.results.metrics_view
    view.set_result("Run 1", compute_metrics(labels, preds, 4), np.zeros((6, 100, 8), np.float32), labels, preds,
                    dataset="temporal-order")
    assert view.captions["samples"].text() == "Test sequences"
    assert view.table.horizontalHeaderItem(0).text() == "Class"
    assert {view.table.item(r, 0).text() for r in range(4)} == {"XX", "XY", "YX", "YY"}
    assert view.gallery.title.text() == "Test sequences"
    view.gallery.show_cell(1, 2)
    assert "True XY, predicted YX" in view.gallery.title.text()
    assert "XY" in view.matrix.describe(1, 2) and "sequence" in view.matrix.describe(1, 2)
    assert not view.gallery.explain_button.isVisibleTo(view.gallery)
    view.set_result("Run 2", compute_metrics(labels, preds, 4), dataset="mnist")
    assert view.captions["samples"].text() == "Test images" and view.table.horizontalHeaderItem(0).text() == "Digit"


def test_a_temporal_order_run_shows_its_own_words_in_results(qtbot, window):
    from lstm_desktop.core.training.config import TrainConfig

    config = TrainConfig.for_dataset("temporal-order", seq_len=10, hidden=8, epochs=1, device="cpu", threads=1)
    with qtbot.waitSignal(window.trainingFinished, timeout=90_000):
        window.start_training(config)
    window.tabs.setCurrentIndex(1)
    view = window.results.metrics_view
    qtbot.waitUntil(lambda: view.metrics is not None, timeout=10_000)
    assert view.captions["samples"].text() == "Test sequences"
    assert view.table.horizontalHeaderItem(0).text() == "Class"
    assert "Draw a digit" not in window.plots.probe_hint.textItem.toPlainText()


def test_settings_that_differ_has_one_epochs_column(qtbot):
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.runs.evented_runs import Run, RunStatus
    from lstm_desktop.ui.widgets.hyperparam_table import HyperparameterTable

    table = HyperparameterTable()
    qtbot.addWidget(table)
    table.set_runs([Run(1, "a", RunStatus.FINISHED, TrainConfig(epochs=2)),
                    Run(2, "b", RunStatus.FINISHED, TrainConfig(epochs=5))])
    assert "Epochs" in table.columns and len(table.columns) == len(set(table.columns)), table.columns


def test_a_given_config_beyond_the_datasets_limit_shows_what_it_uses(window):
    from lstm_desktop.core.training.config import TrainConfig

    window.config_panel.set_config(TrainConfig(dataset="digits", val_size=5000))  # a digits run saved before limits
    assert window.config_panel.val_spin.value() == 200 and window.config_panel.validation_error() is None
    assert window.controls.train_button.isEnabled()


def test_a_run_that_reads_no_drawings_is_not_offered_to_the_pad(window):
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.runs.evented_runs import Run, RunStatus

    run = Run(window.runs.next_id(), "lab", RunStatus.FINISHED, TrainConfig.for_dataset("temporal-order"),
              epochs_done=6, checkpoint_path="lab.pt")
    window.runs.add(run)
    window.runs_panel.select(run.id)
    assert window.runs_panel.save_button.isEnabled() and not window.runs_panel.pad_button.isEnabled()
