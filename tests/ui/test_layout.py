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
