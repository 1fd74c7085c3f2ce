"""Teach the pad: say what a drawing was (a correction or a confirmation), keep it in My digits,
adapt, and the pad reads with the adapted model, kept as a run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from lstm_desktop.core.data.synthetic_digits import generate_digits
from lstm_desktop.testing import replay_strokes


def draw(window, digit) -> None:
    window.pad_panel.clear()
    replay_strokes(window.pad_panel.pad, digit.strokes)
    assert window.pad_panel.settle(5000)


def test_correct_keep_adapt_and_use(qtbot, window, tmp_path):
    from lstm_desktop.ui.teach import my_digits_dir, strokes_file

    window.tabs.setCurrentIndex(2)
    row = window.draw.teach_row
    digits = [d for d in generate_digits(60, seed=21) if d.label in (3, 9)][:8]
    assert len(digits) >= 6
    wrong = None
    for d in digits:
        draw(window, d)
        assert all(b.isEnabled() for b in row.digit_buttons)
        if window.pad_panel.prediction is not None and window.pad_panel.prediction.digit != d.label:
            wrong = d
        qtbot.mouseClick(row.digit_buttons[d.label], Qt.MouseButton.LeftButton)
        assert window.pad_panel.pad.is_empty()  # kept, and the pad is ready for the next one
    kept = sorted(p for p in my_digits_dir().rglob("*.png"))
    assert len(kept) == len(digits)
    assert {p.parent.name for p in kept} == {"3", "9"}
    assert all(strokes_file(p).is_file() for p in kept)  # the strokes too, outside the image folder
    assert f"My digits: {len(digits)}" in row.count_label.text()
    assert row.adapt_button.isEnabled()
    with qtbot.waitSignal(window.teacher.adaptFinished, timeout=180_000) as blocker:
        assert window.teacher.adapt(), window.error_banner.text
    run_id = blocker.args[0]
    assert run_id > 0
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    run = window.runs.get(run_id)
    assert run.source == "adapted" and "Adapted" in run.name
    assert window.pad_panel.model_label.text().startswith("Model: " + run.name)
    assert window.store.get_run(run_id).checkpoint_path  # kept in the run store, with its model
    if wrong is not None:  # the drawing it read wrong before is drawn again
        draw(window, wrong)
        assert window.pad_panel.prediction is not None


def test_my_digits_can_be_browsed_and_deleted(qtbot, window):
    from lstm_desktop.ui.teach import MyDigitsDialog, my_digits_dir

    window.tabs.setCurrentIndex(2)
    d = generate_digits(1, seed=2)[0]
    draw(window, d)
    window.teacher.keep(d.label)
    dialog = MyDigitsDialog(window.teacher)
    assert dialog.list.count() == 1
    dialog.list.item(0).setSelected(True)
    dialog.delete_selected()
    assert dialog.list.count() == 0 and not list(my_digits_dir().rglob("*.png"))


def _adapt(qtbot, window) -> int:
    with qtbot.waitSignal(window.teacher.adaptFinished, timeout=180_000) as blocker:
        assert window.teacher.adapt(), window.error_banner.text
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    return blocker.args[0]


def test_the_drawing_just_corrected_is_read_right_after_adapt(qtbot, window):
    """A newcomer's case: a 1 read as 7, "It was: 1", Adapt: the pad must now read that drawing as 1."""
    window.tabs.setCurrentIndex(2)
    row = window.draw.teach_row
    digits = generate_digits(600, seed=3, templates="failure")
    corrected = digits[193]  # a 1 with a curved flag, read as 7 (tests/core/test_adapt.py: _corrected_case)
    kept = [corrected] + [d for d in digits if d.label == 7][:2] + [d for d in digits if d.label == 0][:2]
    draw(window, corrected)
    assert window.pad_panel.prediction.digit == 7  # what the newcomer saw
    for d in kept:
        draw(window, d)
        qtbot.mouseClick(row.digit_buttons[d.label], Qt.MouseButton.LeftButton)
    run_id = _adapt(qtbot, window)
    assert run_id > 0
    assert window.pad_panel._model.spec.prototypes == 5  # the pad's copy remembers the 5 drawings
    from lstm_desktop.ui.runs_filter import settings_text  # its Results row says what it is, not the base's settings
    assert settings_text(window.runs[run_id]).startswith("adapted from ") and " on 5 drawings" in \
        settings_text(window.runs[run_id])
    draw(window, corrected)
    assert window.pad_panel.prediction.digit == 1
    assert "reads all 5 of your drawings" in window.error_banner.text


def test_adapt_says_plainly_when_it_could_not_learn_a_drawing(qtbot, window):
    window.tabs.setCurrentIndex(2)
    row = window.draw.teach_row
    digits = generate_digits(40, seed=21)
    three = next(d for d in digits if d.label == 3)
    for d, label in [(three, 3), (three, 8)] + [(d, d.label) for d in digits[:4]]:
        draw(window, d)
        qtbot.mouseClick(row.digit_buttons[label], Qt.MouseButton.LeftButton)
    assert _adapt(qtbot, window) > 0
    text = window.error_banner.text
    assert "did not learn all your drawings" in text and "Could not learn" in text
    assert "reads your handwriting better" not in text and "reads all" not in text


def test_an_adapted_run_reads_as_finished(qtbot, window):
    from lstm_desktop.core.drawing.adapt import AdaptResult

    qtbot.waitUntil(lambda: window.shipped_checkpoint is not None, timeout=60_000)
    ckpt = window.shipped_checkpoint
    window.teacher._base_name = "Shipped model"
    with qtbot.waitSignal(window.teacher.adaptFinished, timeout=10_000) as blocker:
        window.teacher._on_adapted(AdaptResult(ckpt, 2.0, 10, 12, "synthetic", 0.9))
    run = window.runs.get(blocker.args[0])
    assert run.epochs_done == run.config.epochs, "an adapted model read as a run stopped after 1 epoch"
    assert "90%" in run.message
