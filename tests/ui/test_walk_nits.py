"""More of what a new user's walkthrough found, each pinned by a test that failed before its fix."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


def _live_view(qtbot):
    from lstm_desktop.core.runs.evented_runs import Run, Runs
    from lstm_desktop.ui.live_view import LiveView
    from lstm_desktop.ui.messages import Messages
    from lstm_desktop.ui.training_controller import TrainingController
    from lstm_desktop.ui.widgets.banners import DataBanner
    from lstm_desktop.ui.widgets.overlay_banner import OverlayBanner
    from lstm_desktop.ui.widgets.training_controls import TrainingControls

    host = QWidget()
    qtbot.addWidget(host)
    runs = Runs()
    training = TrainingController()
    header, status = QLabel(host), QLabel(host)
    live = LiveView(runs, training, TrainingControls(host), DataBanner(host), header, QLabel(host),
                    Messages(OverlayBanner("errorBanner", "Message", host), status))
    run = runs.add(Run(id=runs.next_id(), status="running", dataset="mnist", variant="LSTM (128)"))
    live.show_run(run)
    return live, training, header, run


def test_run_header_says_paused_while_paused(qtbot):
    """The header above the Train tab's curves said 'running' while the run was paused."""
    from lstm_desktop.ui.training_controller import PAUSED, TRAINING

    live, training, header, run = _live_view(qtbot)
    training._set_state(TRAINING)
    assert header.text().endswith("· running")
    training._set_state(PAUSED)
    assert header.text().endswith("· paused")
    training._set_state(TRAINING)
    assert header.text().endswith("· running")
