"""More of what a new user's walkthrough found, each pinned by a test that failed before its fix."""

from __future__ import annotations

import pytest
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
    assert view.readout.plot.titleLabel.text == "Readout after each step"
    assert view.occlusion.plot.titleLabel.text == "Step blanked" and "<b>Step blanked (occlusion).</b>" in text
    view.set_model(model("mnist"))
    assert "28 rows" in view.help.label.text() and "<b>Digit.</b>" in view.help.label.text()
    assert view.occlusion.plot.titleLabel.text == "Row blanked"


def _messages(qtbot):
    from lstm_desktop.ui.messages import Messages
    from lstm_desktop.ui.widgets.overlay_banner import OverlayBanner

    host = QWidget()
    qtbot.addWidget(host)
    label = QLabel(host)
    return Messages(OverlayBanner("errorBanner", "Message", host), label), label


def test_a_finished_actions_line_goes_back_to_the_windows_state(qtbot):
    """'test image #50 sent…' stayed in the status bar long after; now it lasts until the next
    message or the notice timer, then the line says what the window is doing again."""
    messages, label = _messages(qtbot)
    messages.set_status("Training on cpu")
    messages.notice("test image #50 sent to 'Inside the LSTM' (double-click to go there)")
    assert label.text().startswith("test image #50") and messages.notice_timer.isActive()
    messages.notice_timer.timeout.emit()  # the notice's time is up (no waiting in a unit test)
    assert label.text() == "Training on cpu"
    messages.notice("Run 3 finished", state="Ready")  # a run's end: the window is ready again after it
    messages.notice_timer.timeout.emit()
    assert label.text() == "Ready"
    messages.notice("Exporting Run 3 as ONNX…", hold=True)  # progress: stays until its result
    assert not messages.notice_timer.isActive()
    messages.notice("Exported the model")
    assert label.text() == "Exported the model" and messages.notice_timer.isActive()
    messages.set_status("Paused")  # a new state replaces the notice at once
    assert label.text() == "Paused" and not messages.notice_timer.isActive()


def test_restoring_from_the_trash_says_it_restored(qtbot, tmp_path, monkeypatch):
    """After a restore the status line still said 'Moved 1 run to the trash'."""
    from lstm_desktop.core.runs.evented_runs import Runs
    from lstm_desktop.core.runs.store import open_store
    from lstm_desktop.ui import run_dialogs
    from lstm_desktop.ui.run_editing import RunEditor
    from lstm_desktop.ui.widgets.runs_panel import RunsPanel

    store = open_store(tmp_path / "home")
    stored = store.create_run(name="Run A", status="finished")
    runs = Runs([store.get_run(stored.id)])
    messages, label = _messages(qtbot)
    host = QWidget()
    qtbot.addWidget(host)
    editor = RunEditor(runs, RunsPanel(runs, host), lambda: store, messages, lambda: True, host)
    assert editor.delete_runs([stored.id]) == 1
    assert label.text().startswith("Moved 1 run to the trash")

    def restore_all(dialog) -> int:  # the user selects the run and presses Restore
        dialog.list.selectAll()
        dialog.restore()
        return 0

    monkeypatch.setattr(run_dialogs.TrashDialog, "exec", restore_all)
    editor.show_trash()
    assert stored.id in runs
    assert label.text() == "Restored 1 run from the trash"


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_hidden_runs_look_hidden_when_listed(qtbot, qapp, dark, tmp_path):
    """With Hidden ticked, hidden runs looked like the others: now greyed, italic, and their tooltip says so."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette

    from lstm_desktop.core.runs.evented_runs import Run, Runs
    from lstm_desktop.ui.theme import apply_dark_palette, apply_light_palette, contrast
    from lstm_desktop.ui.widgets.runs_panel import RunsPanel

    (apply_dark_palette if dark else apply_light_palette)(qapp)
    try:
        runs = Runs()
        panel = RunsPanel(runs)
        runs.add(Run(id=1, name="shown run", status="finished", dataset="mnist"))
        runs.add(Run(id=2, name="hidden run", status="finished", dataset="mnist", tags=("hidden",)))
        qtbot.addWidget(panel)
        panel.resize(900, 200)
        panel.show()
        panel.show_hidden.setChecked(True)
        model = panel.model
        rows = {model.data(model.index(r, 0)): r for r in range(model.rowCount())}
        assert set(rows) == {"shown run", "hidden run"}
        hidden, shown = model.index(rows["hidden run"], 0), model.index(rows["shown run"], 0)
        assert model.data(hidden, Qt.ItemDataRole.FontRole).italic()
        assert model.data(shown, Qt.ItemDataRole.FontRole) is None
        assert model.data(hidden, Qt.ItemDataRole.ToolTipRole).startswith("Hidden")
        assert not model.data(shown, Qt.ItemDataRole.ToolTipRole).startswith("Hidden")
        grey = model.data(hidden, Qt.ItemDataRole.ForegroundRole).color()
        palette = panel.table.palette()
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        assert contrast(grey, base) >= 3.0, "a hidden run must still be readable"
        assert contrast(grey, base) < contrast(text, base) - 2, "and look fainter than the others"
        panel.grab().save(str(tmp_path / f"hidden_{'dark' if dark else 'light'}.png"))
    finally:
        apply_light_palette(qapp)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_confusion_count_reads_on_its_cell(qtbot, qapp, dark):
    """On the dark theme the small wrong-class counts sat on near-black cells hard to tell from empty,
    and mid blues had counts below 4.5:1: every count now reads (WCAG AA), every non-zero cell shows."""
    import numpy as np

    from lstm_desktop.ui.theme import apply_dark_palette, apply_light_palette, contrast
    from lstm_desktop.ui.widgets.confusion_matrix import ConfusionMatrixView

    (apply_dark_palette if dark else apply_light_palette)(qapp)
    try:
        view = ConfusionMatrixView()
        qtbot.addWidget(view)
        view.show()
        n = 10
        matrix = np.zeros((n, n), np.int64)
        for r in range(n):  # every share from 1 in 1,000 to all of a row, on and off the diagonal
            matrix[r] = np.geomspace(1, 1000, n).astype(int)[np.roll(np.arange(n), r)]
        matrix[0, 1:] = 0  # and empty cells
        view.set_matrix(matrix)
        empty = view.cell_colors(0, 1)[0]
        for r in range(n):
            for c in range(n):
                fill, ink = view.cell_colors(r, c)
                if matrix[r, c]:
                    assert contrast(ink, fill) >= 4.5, (r, c, fill.name(), ink.name())
                    tint = max(abs(a - b) for a, b in zip(fill.getRgb()[:3], empty.getRgb()[:3]))
                    assert tint >= 40, f"a count of {matrix[r, c]} looks like an empty cell"
    finally:
        apply_light_palette(qapp)


def test_an_adapted_runs_row_says_what_it_is(qtbot):
    """An adapted model's row showed '30/30' epochs and the shipped model's settings."""
    from PySide6.QtCore import Qt

    from lstm_desktop.core.runs.evented_runs import Run, Runs
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.ui.runs_filter import adapted_message
    from lstm_desktop.ui.runs_table_model import EPOCHS, SETTINGS, RunsTableModel

    config = TrainConfig(epochs=30)
    runs = Runs()
    model = RunsTableModel(runs)
    runs.add(Run(id=1, name="my name for it", status="finished", source="adapted", config=config, epochs_done=30,
                 message=adapted_message("Shipped model", 12, 3.5, 1.0)))
    runs.add(Run(id=2, name="older", status="finished", source="adapted", config=config, epochs_done=30,
                 message="fine-tuned on 7 of your drawings in 2.0 s; it reads 100% of them right"))
    runs.add(Run(id=3, name="trained", status="finished", config=config, epochs_done=30))

    def text(run_id: int, col: int) -> str:
        row = next(r for r in range(model.rowCount())
                   if model.data(model.index(r, 0), Qt.ItemDataRole.UserRole) == run_id)
        return model.data(model.index(row, col))

    assert text(1, SETTINGS) == "adapted from Shipped model on 12 drawings" and text(1, EPOCHS) == "adapted"
    assert text(2, SETTINGS) == "adapted on 7 drawings"  # kept before the base was in its message
    assert text(3, EPOCHS) == "30/30" and text(3, SETTINGS).startswith("lr ")  # a trained run is unchanged


def test_drawing_pen_digits_before_the_first_epoch_says_so(qtbot):
    """A run with --pen-digits draws them on first use (about 20 s for 20,000): the Train tab says
    what it is doing and how far it got, not a bare 'Loading data…'."""
    from lstm_desktop.core.training.events import DataProgress

    live, _, _, _ = _live_view(qtbot)
    live.on_data_progress(DataProgress("pen digits", 4000, 20000))
    text = live.controls.message.text()
    assert "20,000 pen digits" in text and "4,000 done" in text


def test_epoch_axes_tick_whole_epochs_only_over_two_or_more(qtbot):
    """A 6-epoch temporal-order run showed epoch ticks at 0.5, 1.5...; within one epoch the
    fractions stay (how far through it the batch-loss curve is)."""
    from lstm_desktop.ui.widgets.live_plots import LivePlots
    from lstm_desktop.ui.widgets.plot_axes import ReadableAxis

    plots = LivePlots()
    qtbot.addWidget(plots)
    axes = [view.getPlotItem().getAxis("bottom") for view in plots._views]
    assert axes and all(isinstance(a, ReadableAxis) and a.whole for a in axes)
    spacings = [s for s, _ in axes[0].tickSpacing(0.0, 6.0, 600.0)]
    assert spacings and min(spacings) >= 1
    assert min(s for s, _ in axes[0].tickSpacing(0.0, 1.0, 600.0)) < 1
    assert min(s for s, _ in ReadableAxis("bottom").tickSpacing(0.0, 6.0, 600.0)) < 1  # a plain axis keeps them


def test_a_run_with_pen_digits_trains_on_them_in_the_window_and_says_it_draws_them(qtbot, window, monkeypatch,
                                                                                   tiny_config, mnist_dir):
    """The whole path: the window's config -> the training thread's data (load_bundle_for) -> the
    progress events back on the GUI thread -> the Train tab's message; the run trains on them."""
    from dataclasses import replace as replace_field

    from lstm_desktop.core.data import catalog
    from lstm_desktop.core.data.image_sets import synthetic_bundle
    from ui_helpers import train

    monkeypatch.setattr(catalog, "load_bundle",  # MNIST's place (the window checks it is there), small data
                        lambda name, *a, **k: replace_field(synthetic_bundle(seed=0), name=name))
    shown = []
    real = window.controls.set_message
    monkeypatch.setattr(window.controls, "set_message", lambda text: (shown.append(text), real(text)))
    run = train(qtbot, window, tiny_config(dataset="mnist", data_dir=str(mnist_dir), epochs=1, pen_digits=700))
    assert run.status == "finished"
    drawing = [t for t in shown if t.startswith("Drawing 700 pen digits")]
    assert drawing and drawing[-1].endswith("700 done")
    plain = len(synthetic_bundle(seed=0).train_x)
    assert any(f"{plain + 700:,} training samples" in t for t in shown)
