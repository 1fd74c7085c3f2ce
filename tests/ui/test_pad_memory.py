"""The pad remembers its model across restarts (an adapted one too), and a greyed Adapt button says
why: it needs drawings of 2 or more different digits."""

from __future__ import annotations

from PySide6.QtCore import Qt

from lstm_desktop.core.data.synthetic_digits import generate_digits
from lstm_desktop.testing import replay_strokes


def _keep(qtbot, window, digits) -> None:
    row = window.draw.teach_row
    for d in digits:
        window.pad_panel.clear()
        replay_strokes(window.pad_panel.pad, d.strokes)
        assert window.pad_panel.settle(5000)
        qtbot.mouseClick(row.digit_buttons[d.label], Qt.MouseButton.LeftButton)


def _restart(qtbot, window, make_window):
    window.shutdown(30_000)
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=30_000)
    window.close()
    return make_window()


def test_the_pad_keeps_its_adapted_model_across_a_restart(qtbot, make_window):
    window = make_window()
    window.tabs.setCurrentIndex(2)
    _keep(qtbot, window, [d for d in generate_digits(30, seed=5) if d.label in (1, 7)][:4])
    with qtbot.waitSignal(window.teacher.adaptFinished, timeout=180_000) as blocker:
        assert window.teacher.adapt()
    run_id = blocker.args[0]
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    name = window.runs.get(run_id).name
    assert window.pad_model.pad_run.id == run_id

    again = _restart(qtbot, window, make_window)
    assert again.pad_model.pad_run is not None and again.pad_model.pad_run.id == run_id
    assert again.pad_panel.model_label.text() == f"Model: {again.runs.get(run_id).label}" and name in \
        again.pad_panel.model_label.text()
    assert again.draw.model_selector.currentData() == run_id

    again.use_on_pad(None)  # back to the shipped model: that is remembered too
    third = _restart(qtbot, again, make_window)
    assert third.pad_model.pad_run is None and third.pad_panel.model_label.text() == "Model: Shipped model"


def test_a_forgotten_run_falls_back_to_the_shipped_model(qtbot, make_window, settings_file):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    settings.setValue("pad/run", "41 2026-01-01T00:00:00")  # a run that is not in the store
    settings.sync()
    window = make_window()
    assert window.pad_model.pad_run is None and window.pad_panel.model_label.text() == "Model: Shipped model"


def test_a_greyed_adapt_button_says_it_needs_two_different_digits(qtbot, window):
    window.tabs.setCurrentIndex(2)
    row = window.draw.teach_row
    assert not row.adapt_button.isEnabled()
    assert "2 or more different digits" in row.adapt_button.toolTip() and "none yet" in row.adapt_button.toolTip()
    assert "Adapt needs 2+ different digits" in row.count_label.text()
    sevens = [d for d in generate_digits(40, seed=6) if d.label == 7][:2]
    _keep(qtbot, window, sevens)
    assert not row.adapt_button.isEnabled() and "only 7" in row.adapt_button.toolTip()
    assert "Adapt needs 2+ different digits" in row.count_label.text()
    _keep(qtbot, window, [d for d in generate_digits(40, seed=6) if d.label == 3][:1])
    assert row.adapt_button.isEnabled()
    assert "2 or more" not in row.adapt_button.toolTip() and "Adapt needs" not in row.count_label.text()
