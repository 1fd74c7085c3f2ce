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
