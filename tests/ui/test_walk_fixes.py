"""Bugs a new user's walkthrough in a real window found, each pinned by a test."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


def test_inside_tab_loses_its_loading_placeholder(qtbot, window):
    """Once the inside view exists, 'Loading…' no longer shows above it on the Inside tab."""
    window.tabs.setCurrentWidget(window.inside_tab)
    qtbot.waitUntil(lambda: window.draw.inside_view.parent() is window.inside_tab, timeout=5000)
    shown = [label.text() for label in window.inside_tab.findChildren(QLabel)
             if label.isVisible() and label.text().startswith("Loading")]
    assert shown == []


def test_delete_question_speaks_of_one_run_in_the_singular():
    """'Move 1 run (Run 1) and their models … from Trash….': one run has its model, and no doubled dot."""
    from lstm_desktop.ui.run_editing import delete_question

    one = delete_question(["Run 1"])
    assert "its model" in one and "their" not in one and "…." not in one
    many = delete_question(["Run 1", "Run 2"])
    assert "2 runs (Run 1, Run 2)" in many and "their models" in many and "…." not in many


def test_gradient_flow_shows_no_empty_legend_box(qtbot):
    """With no run selected (or before the first measurement) the legend was an empty square."""
    import numpy as np

    from lstm_desktop.ui.widgets.gradient_flow_view import GradientFlowView

    view = GradientFlowView(heatmap=False)
    qtbot.addWidget(view)
    view.show()
    assert not view.legend.isVisible()
    view.add_measurement(1, 0.5, np.array([0.1, 0.2, 0.3]))
    assert view.legend.isVisible()
    view.clear()
    assert not view.legend.isVisible()


def test_pad_input_is_announced_again_when_the_pen_lifts_where_it_stopped(qtbot, tmp_path):
    """The pen stopped, its live prediction came, then the pen lifted: the inside view (which waits for
    the pen to lift) must hear of the drawing, though its pixels did not change at the lift."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from lstm_desktop.ui.pad_panel import PadPanel
    from test_pad import ONE, densify, make_checkpoint, widget_point

    panel = PadPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 620)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_model(make_checkpoint(tmp_path), "test model")
    pad = panel.pad
    heard: list[bool] = []  # was the pen down when the input was announced?
    panel.inputChanged.connect(lambda _x: heard.append(pad.is_drawing()))
    pts = [widget_point(pad, x, y) for x, y in densify(ONE)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(pad, p)
    qtbot.waitUntil(lambda: bool(heard), timeout=5000)  # the live prediction of the whole stroke, pen still down
    assert panel.settle(5000) and heard[-1] is True
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    assert panel.settle(5000)
    assert heard[-1] is False


def test_first_stroke_on_an_empty_pad_repaints_the_whole_pad(qtbot):
    """After Clear, with the pad already focused, a new stroke repainted only around the pen: the
    'Draw a digit here' text stayed on screen under the ink."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from lstm_desktop.ui.widgets.drawing_pad import DrawingPad

    pad = DrawingPad()
    qtbot.addWidget(pad)
    pad.resize(300, 300)
    pad.show()
    qtbot.waitExposed(pad)
    pad.setFocus()
    qtbot.waitUntil(pad.hasFocus, timeout=2000)
    updates: list[tuple] = []
    pad.update = lambda *args: updates.append(args)  # noqa: the pad's own calls to update() are recorded
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pad.rect().center())
    assert () in updates  # the whole pad: the placeholder text is gone
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pad.rect().center())


def test_the_curves_readout_never_widens_the_window(qtbot, window):
    """Hovering a plot wrote a long readout ('epoch 0.62 · batch loss … (train/val)') whose width the
    window took on: it grew past the screen at 1024x700."""
    window.resize(1024, 700)
    window.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    qtbot.wait(100)  # the layout settles
    before = window.minimumSizeHint().width()
    window.plots.readout.setText("epoch 0.62 · batch loss 0.1262 (smoothed 0.2318) · epoch 1: loss "
                                 "0.4152/0.1619, acc 86.79%/95.34% (train/val) " * 3)
    qtbot.wait(100)
    assert window.minimumSizeHint().width() == before
    assert window.width() == 1024


def test_a_longer_my_digits_count_does_not_move_the_digit_buttons(qtbot):
    """'My digits: 1 (7: 1) · Adapt needs 2+ different digits' widened the pad's side of the Draw tab,
    so the 'It was' buttons moved between two clicks (a 1 was kept as a 2)."""
    from lstm_desktop.ui.teach import TeachRow

    row = TeachRow()
    qtbot.addWidget(row)
    row.count_label.setText("My digits: 0 · Adapt needs 2+ different digits")
    row.show()
    qtbot.wait(50)  # the layout settles
    short = row.minimumSizeHint().width()
    row.count_label.setText("My digits: 30 (0: 3, 1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3, 8: 3, 9: 3) "
                            "· Adapt needs 2+ different digits")
    qtbot.wait(50)
    assert row.minimumSizeHint().width() == short


def test_the_pen_slider_stays_usable_in_a_small_window(qtbot, window):
    """At 1024x700 the Draw tab's Pen slider shrank to its handle."""
    window.resize(1600, 1000)  # the Draw tab is first seen in a big window, then the window shrinks
    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: window.width() == 1600, timeout=3000)
    qtbot.wait(100)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    qtbot.wait(100)  # the layout settles
    assert window.pad_panel.pen_slider.width() >= 80


def test_quit_question_does_not_promise_an_epoch_that_has_not_finished():
    """Quitting in epoch 1 said 'Its last finished epoch is kept.', but such a run ends with no model."""
    from lstm_desktop.ui.run_editing import quit_question

    assert "kept" not in quit_question(0) and "no model" in quit_question(0)
    assert "last finished epoch is kept" in quit_question(2)


def test_trashed_status_speaks_of_one_run_in_the_singular():
    """'Moved 1 run to the trash (Results › Trash… restores them)'."""
    from lstm_desktop.ui.run_editing import trashed_status

    assert trashed_status(1).endswith("restores it)") and "1 run " in trashed_status(1)
    assert trashed_status(3).endswith("restores them)") and "3 runs" in trashed_status(3)


def test_a_status_line_cut_at_the_window_edge_can_still_be_read(qtbot, window):
    """The ONNX export's result ('… checked with onnxruntime on 359 samples of the digits test set: s')
    was cut by the status bar with no way to read the rest."""
    text = "Exported the model to /tmp/x.onnx (ONNX, 0.29 MB); checked with onnxruntime on 359 samples " \
           "of the digits test set: same predictions, largest difference 1e-6"
    window.set_status(text)
    assert window.state_label.text() == text and window.state_label.toolTip() == text


def test_closing_while_a_stored_runs_test_set_loads_still_closes(qtbot, make_window, tmp_path, tiny_config):
    """Quit while a stored run's test set was being loaded: the window hid, the thread ended, and the
    window never closed (the process stayed, invisible)."""
    first = make_window(settings_path=tmp_path / "first.ini")
    with qtbot.waitSignal(first.trainingFinished, timeout=120_000):
        trained = first.start_training(tiny_config(epochs=1))
    qtbot.waitUntil(lambda: not first.running_threads(), timeout=10_000)
    first.shutdown()
    first.close()

    window = make_window(settings_path=tmp_path / "again.ini")
    window.runs_panel.select(trained.id)  # its test set is loaded again, off the GUI thread
    assert window.lifecycle.tests.threads() and window.running_threads()
    with qtbot.waitSignal(window.closed, timeout=60_000):
        window.close()
    assert not window.running_threads()
