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


def test_inside_help_speaks_of_the_models_own_rows_and_words(qtbot):
    """The help said '28 rows' of a digit for every model: an 8x8 digits model reads 8 rows, the
    temporal-order task 100 steps of a sequence."""
    import torch

    from lstm_desktop.core.models.checkpoint import Checkpoint
    from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
    from lstm_desktop.ui.inside.view import InsideView

    def model(dataset: str, **kw) -> Checkpoint:
        torch.manual_seed(0)
        spec = ModelSpec(hidden=8, **kw)
        return Checkpoint(LSTMClassifier(spec), spec, info={"dataset": dataset})

    view = InsideView()
    qtbot.addWidget(view)
    view.set_model(model("digits", input_size=8, seq_len=8))
    text = view.help.label.text()
    assert "8 rows" in text and "28 rows" not in text
    view.set_model(model("temporal-order", input_size=8, seq_len=100, num_classes=4))
    text = view.help.label.text()
    assert "100 time steps" in text and "<b>Sequence.</b>" in text and "step t" in text
    assert "28 rows" not in text and "row t" not in text and "digit" not in text.lower()
    assert "100 time steps" in view.digit.plot.toolTip()  # the plot's own tooltip says so too
    assert view.digit.plot.titleLabel.text.startswith("Sequence")
    view.set_model(model("mnist"))
    assert "28 rows" in view.help.label.text() and "<b>Digit.</b>" in view.help.label.text()
