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
    from lstm_desktop.core.mnist_files import missing_data_message

    error = missing_data_message(tmp_path)  # the core's hint, written for the command line
    assert "--dataset digits" in error.hint
    window.show_error(error.message, error.hint)
    shown = window.error_banner.text
    assert "--" not in shown, shown
    assert "Dataset: scikit-learn digits" in shown and "Data folder" in shown
