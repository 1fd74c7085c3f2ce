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
