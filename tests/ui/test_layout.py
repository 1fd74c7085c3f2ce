"""The window fits small screens: at 1024x700 the Train, Pause and Stop buttons, the progress and the
throughput are on screen without scrolling, and a message never moves the content under it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect


def fully_visible(widget, window) -> bool:
    """On screen inside the window's central area, and not clipped by a scroll area."""
    if not widget.isVisible():
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    rect = QRect(top_left, widget.size())
    inside = window.centralWidget().geometry().contains(rect)
    return inside and widget.visibleRegion().boundingRect().size() == widget.size()


@pytest.mark.parametrize("size", [(1024, 700), (1320, 860)])


def test_train_controls_are_visible_without_scrolling(qtbot, window, size):
    window.resize(*size)
    window.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: window.width() == size[0], timeout=3000)
    qtbot.wait(50)
    c = window.controls
    for w in (c.train_button, c.pause_button, c.stop_button, c.epoch_bar, c.batch_bar, c.rate_value, c.eta_value):
        assert fully_visible(w, window), f"{w.objectName()} is not fully visible at {size}"


def test_a_message_does_not_shift_the_layout(qtbot, window):
    window.resize(1024, 700)
    qtbot.wait(50)
    before = window.tabs.geometry(), window.controls.train_button.mapTo(window, QPoint(0, 0))
    window.show_error("Something went wrong.", "Here is what to do about it.")
    qtbot.wait(50)
    assert window.error_banner.isVisible()
    after = window.tabs.geometry(), window.controls.train_button.mapTo(window, QPoint(0, 0))
    assert before == after


def test_the_draw_tab_pad_grows_with_the_window(qtbot, window):
    window.tabs.setCurrentIndex(2)
    window.resize(1024, 700)
    qtbot.wait(100)
    small = window.pad_panel.pad.canvas_rect().width()
    window.resize(1800, 1100)
    qtbot.waitUntil(lambda: window.width() == 1800, timeout=3000)
    qtbot.wait(100)
    large = window.pad_panel.pad.canvas_rect().width()
    assert small >= 200 and large > small * 1.2


def test_why_train_is_greyed_shows_beside_the_train_button(qtbot, window):
    window.resize(1024, 700)
    window.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    window.config_panel.lr_spin.lineEdit().setText("20")
    qtbot.wait(50)
    assert not window.controls.train_button.isEnabled()
    label = window.config_panel.error_label
    assert "(0, 10]" in label.text()
    assert fully_visible(label, window), "the reason Train is greyed is off-screen"
    assert not window.train_tab.scroll.isAncestorOf(label)


def _rect(widget, window) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def not_clipped(widget) -> bool:
    """As wide and high as it needs to show its content (a squeezed button cuts its text)."""
    hint = widget.minimumSizeHint()
    return widget.width() >= hint.width() and widget.height() >= hint.height()


def test_results_at_1024x700_matrix_and_images_do_not_overlap(qtbot, window, tiny_config):
    window.resize(1024, 700)
    with qtbot.waitSignal(window.trainingFinished, timeout=90_000):
        window.start_training(tiny_config(epochs=1))
    window.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    qtbot.wait(100)
    view = window.results.metrics_view
    gallery = view.gallery
    assert not _rect(view.matrix, window).intersects(_rect(gallery, window)), "the matrix paints over the images"
    for w in (gallery.misclassified_button, gallery.explain_button, gallery.title):
        assert not_clipped(w), f"{w.objectName() or w.text()} is clipped at 1024x700"
        assert _rect(w, window).right() <= window.centralWidget().geometry().right()


@pytest.mark.parametrize("size", [(1024, 700), (1320, 860)])


def test_the_inside_view_beside_the_pad_shows_every_panel_whole(qtbot, window, size):
    window.resize(*size)
    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: window.width() == size[0], timeout=3000)
    qtbot.wait(100)
    view = window.inside_view
    plots = view.plots_scroll.widget()
    assert plots.width() >= plots.minimumWidth() > 0, "the panels are squeezed instead of scrolling"
    top = view.top
    for plot in (view.digit.plot, view.attention.plot, view.readout.plot, view.occlusion.plot):
        right = plot.mapRectToScene(plot.boundingRect()).right()
        assert right <= top.width() + 1, f"{plot} is cut off at {size}"
    if size[0] >= 1320:  # at the default size nothing needs scrolling
        assert view.plots_scroll.viewport().width() >= plots.width()
    for w in (window.pad_panel.pen_slider, window.pad_panel.undo_button, window.pad_panel.open_button):
        assert not_clipped(w) and w.width() >= w.sizeHint().width() * 0.9, f"{w.objectName()} is squeezed"


def test_the_pad_keeps_its_size_after_the_first_stroke(qtbot, window):
    from lstm_desktop.core.data.synthetic_digits import generate_digits
    from lstm_desktop.testing import replay_strokes

    window.resize(1024, 700)
    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    qtbot.wait(100)
    pad = window.pad_panel.pad
    before = pad.size()
    replay_strokes(pad, generate_digits(1, seed=4)[0].strokes)
    assert window.pad_panel.settle(5000)
    qtbot.wait(100)
    assert pad.size() == before, "the pad changed size when the prediction replaced the hint"


def test_the_adapt_progress_text_is_not_clipped(qtbot, window):
    window.resize(1024, 700)
    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    progress = window.draw.teach_row.progress
    progress.setFormat("preparing replay digits (%p%)")
    progress.show()
    qtbot.wait(100)
    text = progress.format().replace("%p", "0")
    assert progress.width() >= progress.fontMetrics().horizontalAdvance(text) + 16, "the progress text is cut"
    assert fully_visible(progress, window)


def test_on_a_big_screen_the_pad_grows_too(qtbot, window):
    window.resize(2400, 1300)
    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: window.width() == 2400, timeout=3000)
    qtbot.wait(100)
    assert window.draw.splitter.sizes()[0] >= 0.35 * window.draw.splitter.width()
    assert window.pad_panel.pad.canvas_rect().width() >= 500


def test_a_message_at_1024x700_leaves_the_pads_buttons_and_the_runs_filter_clickable(qtbot, window):
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    window.error_banner.show_message("Run 1 finished: test accuracy 85.79%, macro F1 0.8564 (3 epochs, "
                                     "19,726 samples/s).", "The Results tab has the per-class scores and the "
                                     "confusion matrix; the run and its model are kept.", kind="success")
    banner = _rect(window.error_banner, window)
    window.tabs.setCurrentIndex(2)
    qtbot.wait(50)
    pad = window.pad_panel
    for button in (pad.undo_button, pad.redo_button, pad.clear_button, pad.open_button):
        assert not banner.intersects(_rect(button, window)), f"the message covers {button.text()}"
    window.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    assert not banner.intersects(_rect(window.runs_panel.search, window)), "the message covers the filter"


@pytest.mark.parametrize("size", [(1024, 700), (1320, 860)])


def test_results_show_several_runs_and_whole_numbers_on_small_screens(qtbot, window, size):
    """Seen at 1024x700: the runs list squeezed to one row and the headline numbers cut ("100.0(")."""
    from lstm_desktop.core.training.metrics import compute_metrics

    window.resize(*size)
    window.tabs.setCurrentWidget(window.results)
    qtbot.waitUntil(lambda: window.width() == size[0], timeout=3000)
    metrics = compute_metrics([0, 1, 2, 3] * 500, [0, 1, 2, 3] * 500)
    window.metrics_view.set_result("Run 1", metrics)
    qtbot.wait(50)
    table = window.runs_panel.table
    rows_in_view = (table.viewport().height()) // table.verticalHeader().defaultSectionSize()
    assert rows_in_view >= 3, f"{rows_in_view} runs in view at {size}"
    assert window.minimumSizeHint().height() <= 700, "the window no longer fits a 700 px tall screen"
    for key, label in window.metrics_view.values.items():
        text_width = label.fontMetrics().horizontalAdvance(label.text())
        assert text_width <= label.width(), f"{key} value {label.text()!r} cut at {size}"


def test_a_message_never_covers_the_mnist_banner(qtbot, window, tmp_path):
    """The floating message sits below the 'MNIST is missing' banner (whose buttons are on its right),
    also when the banner appears after the message, and goes back up when the banner goes."""
    window.resize(1320, 860)
    window.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: window.width() == 1320, timeout=3000)
    window.config_panel.set_dataset("digits")  # no MNIST banner yet
    window.data.check()
    assert not window.data_banner.isVisible()
    window.show_error("Runs cannot be recorded: the run store is locked by another program.",
                      "Your models are untouched.", "warning")
    top = _rect(window.error_banner, window).top()
    window.config_panel.set_dataset("mnist")
    window.config_panel.set_data_dir(str(tmp_path / "nothing-here"))
    window.data.check()
    qtbot.waitUntil(lambda: window.data_banner.isVisible(), timeout=3000)
    qtbot.wait(50)
    data, message = _rect(window.data_banner, window), _rect(window.error_banner, window)
    assert not message.intersects(data), f"the message {message} covers the MNIST banner {data}"
    assert not message.intersects(_rect(window.data_banner.download_button, window))
    window.config_panel.set_dataset("digits")
    window.data.check()
    qtbot.waitUntil(lambda: not window.data_banner.isVisible(), timeout=3000)
    assert _rect(window.error_banner, window).top() == top, "back under the tab bar once the banner is gone"
