"""The main window end to end, offscreen, on tiny runs of the scikit-learn digits dataset."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox,
                               QApplication, QComboBox, QGraphicsView, QLineEdit, QMenuBar, QScrollBar,
                               QTabBar, QWidget)

from ui_helpers import TRAIN_TIMEOUT_MS, train, wait_for_batches


def test_train_to_end_fills_curves_and_metrics(qtbot, window, monkeypatch, tiny_config):
    given = []
    monkeypatch.setattr(window.pad_panel, "set_model", lambda ckpt, label: given.append(("pad", ckpt, label)))
    monkeypatch.setattr(window.draw.explainer, "set_model", lambda ckpt, label="": given.append(("inside", ckpt)))
    inputs = []
    monkeypatch.setattr(window.draw.explainer, "set_input",
                        lambda image, label="", model=None, model_label="": inputs.append((image, label)))
    probe = np.full((28, 28), -1.0, dtype=np.float32)
    probe[5:23, 12:16] = 1.0
    window.pad_panel.probe.set(probe)  # what the training thread reads: never the widget

    record = train(qtbot, window, tiny_config(epochs=2, dataset="synthetic"))  # 28x28: the pad can use it

    assert record.status == "finished"
    assert record.epochs_done == 2
    assert window.state == "idle"
    counts = window.plots.counts()
    assert counts["batches"] == len(record.history["batch_loss"]) > 0
    assert counts["epochs"] == 2
    assert counts["probe"] == 2  # the pad's drawing was scored after each epoch
    window.plots.refresh()
    x, y = window.plots.ema_curve.getData()
    assert len(x) == counts["batches"] and np.all(np.isfinite(y))
    assert window.controls.epoch_bar.value() == 2
    # results
    assert record.metrics is not None and 0.0 <= record.metrics.accuracy <= 1.0
    window.runs_panel.select(record.id)
    assert window.metrics_view.values["accuracy"].text().endswith("%")
    assert window.metrics_view.table.rowCount() == 10
    matrix = window.metrics_view.matrix
    assert matrix.size_n == 10 and matrix.matrix.sum() == len(record.extra["test_labels"])
    # the new model is offered, not put on the pad silently; one click uses it
    assert not any(g[0] == "pad" for g in given)
    qtbot.mouseClick(window.runs_panel.pad_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentIndex() == 2
    assert ("pad", record.extra["checkpoint"], record.label) in given
    assert ("inside", record.extra["checkpoint"]) in given
    # clicking a confusion-matrix cell lists its images; clicking one sends it to the inside view
    row = int(np.argmax(np.diag(matrix.matrix)))
    center = matrix.cell_rect(row, row).center().toPoint()
    qtbot.mouseClick(matrix, Qt.MouseButton.LeftButton, pos=center)
    gallery = window.metrics_view.gallery
    assert gallery.count() == matrix.matrix[row, row] > 0
    gallery.select_index(0)
    assert inputs and inputs[-1][0].shape == record.extra["test_images"].shape[1:]
    assert f"true {row}" in inputs[-1][1]
    gallery.explain_button.click()
    assert window.tabs.currentIndex() == 3
    # misclassified list
    errors = int((record.extra["test_labels"] != record.extra["test_predictions"]).sum())
    assert gallery.show_misclassified() == errors
    # the comparison plot overlays the ticked runs
    assert window.comparison.curve_count() == 1


def test_stop_mid_run_is_honoured_quickly(qtbot, window, tiny_config):
    record = window.start_training(tiny_config(epochs=500, batch_size=8))
    wait_for_batches(qtbot, window, 5)
    with qtbot.waitSignal(window.trainingFinished, timeout=15_000):  # the run ends at its next batch
        qtbot.mouseClick(window.controls.stop_button, Qt.MouseButton.LeftButton)
        assert window.state == "stopping"
        qtbot.waitUntil(lambda: window.training_worker is None or not window.training_worker.control.paused,
                        timeout=1000)
    assert record.status == "stopped"
    assert record.epochs_done < 500
    assert window.state == "idle"
    assert window.controls.train_button.isEnabled()


def test_pause_and_resume(qtbot, window, tiny_config):
    from lstm_desktop.core.training import events as ev
    from lstm_desktop.core.training.control import TrainingControl

    holding, clicked, parked = threading.Event(), threading.Event(), threading.Event()

    class Control(TrainingControl):
        def wait_while_paused(self) -> float:
            parked.set()  # the loop is blocked here: it cannot train until Resume
            return super().wait_while_paused()

    def hold(event) -> None:  # the run waits at its 4th batch until Pause is pressed, so it cannot end first
        if isinstance(event, ev.BatchEnded) and (event.epoch, event.batch) == (0, 3):
            holding.set()
            clicked.wait(TRAIN_TIMEOUT_MS / 1000)

    record = window.start_training(tiny_config(epochs=3, batch_size=8), callbacks=[hold], control=Control())
    qtbot.waitUntil(lambda: holding.is_set() and window.state == "training", timeout=TRAIN_TIMEOUT_MS)
    qtbot.mouseClick(window.controls.pause_button, Qt.MouseButton.LeftButton)
    clicked.set()
    assert window.state == "paused"
    assert window.controls.pause_button.text() == "Resume"
    assert window.train_tab.run_label.text().endswith("· paused")  # the header over the curves, too
    qtbot.waitUntil(parked.is_set, timeout=TRAIN_TIMEOUT_MS)  # the batch that was running has ended
    QApplication.processEvents()  # the chunks the worker sent before it parked
    window.training.drain()  # and what it still holds: the batch running when Pause was pressed
    paused_count = window.plots.counts()["batches"]
    assert window.training_worker.control.paused and paused_count == 4  # batches 0-3, none after
    window.training.drain()
    assert window.plots.counts()["batches"] == paused_count, "training went on while paused"
    with qtbot.waitSignal(window.trainingFinished, timeout=TRAIN_TIMEOUT_MS):
        qtbot.mouseClick(window.controls.pause_button, Qt.MouseButton.LeftButton)
        assert window.state == "training"
        assert window.train_tab.run_label.text().endswith("· running")
    assert record.status == "finished"
    assert window.plots.counts()["batches"] > paused_count


def test_close_mid_training_leaves_no_thread(qtbot, window, tiny_config):
    record = window.start_training(tiny_config(epochs=500, batch_size=8))
    wait_for_batches(qtbot, window, 3)
    with qtbot.waitSignal(window.closed, timeout=15_000):
        window.close()
    assert not window.isVisible()
    assert not window.running_threads()
    assert record.status in ("stopped", "finished")


def test_device_list_shows_cpu(window):
    combo = window.config_panel.device_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    ids = [combo.itemData(i) for i in range(combo.count())]
    assert combo.isEnabled()
    assert ids[0] == "auto" and "cpu" in ids
    assert any(label.startswith("CPU (") for label in labels)
    assert window.device_label.text().startswith("Device: ")


def test_missing_mnist_shows_where_it_looked_and_the_ways_out(qtbot, window, tmp_path):
    empty = tmp_path / "no-mnist-here"
    empty.mkdir()
    window.config_panel.set_dataset("mnist")
    window.config_panel.set_data_dir(str(empty))
    banner = window.data_banner
    assert banner.isVisible()
    assert str(empty) in banner.text and "train-images-idx3-ubyte" in banner.text
    for button in (banner.download_button, banner.choose_button, banner.digits_button):
        assert button.isVisible() and button.isEnabled()
    qtbot.mouseClick(banner.digits_button, Qt.MouseButton.LeftButton)
    assert window.config_panel.values()["dataset"] == "digits"
    assert not banner.isVisible()


def test_offline_download_failure_is_explained(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_DESKTOP_MNIST_MIRROR", "http://127.0.0.1:9/")  # nothing listens there
    window.config_panel.set_dataset("mnist")
    window.config_panel.set_data_dir(str(tmp_path / "mnist"))
    with qtbot.waitSignal(window.downloadFinished, timeout=60_000) as blocker:
        qtbot.mouseClick(window.data_banner.download_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [False]
    assert window.data_banner.kind == "error"
    assert "Could not download" in window.data_banner.text
    assert "digits" in window.data_banner.text  # the hint offers the offline dataset


def test_errors_in_the_worker_are_shown_and_the_thread_ends(qtbot, window, monkeypatch, tiny_config):
    import lstm_desktop.core.training.session as session
    from lstm_desktop.core.errors import DataError

    def broken(*args, **kwargs):
        raise DataError("The data is broken.", "Choose another folder.")

    monkeypatch.setattr(session, "run_training", broken)
    record = train(qtbot, window, tiny_config())
    assert record.status == "failed"
    assert window.error_banner.isVisible()
    assert "The data is broken." in window.error_banner.text
    assert "Choose another folder." in window.error_banner.text

    def crash(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(session, "run_training", crash)
    record = train(qtbot, window, tiny_config())
    assert record.status == "failed"
    assert "ZeroDivisionError" in window.error_banner.text
    assert window.controls.train_button.isEnabled()


def test_nan_loss_is_reported_with_the_fix(qtbot, window, monkeypatch, tiny_config):
    import lstm_desktop.core.training.engine as engine

    real = engine.F.cross_entropy
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        loss = real(*args, **kwargs)
        return loss * float("nan") if calls["n"] > 25 else loss

    monkeypatch.setattr(engine.F, "cross_entropy", poisoned)
    record = train(qtbot, window, tiny_config(epochs=3, cpu_kernel=False))  # the C kernel has its own loss
    assert record.status == "failed"
    assert "loss became nan" in window.error_banner.text
    assert "learning rate" in window.error_banner.text


def test_save_open_and_evaluate_a_checkpoint(qtbot, window, tmp_path, monkeypatch, tiny_config):
    record = train(qtbot, window, tiny_config(epochs=1))
    path = window.save_run(record.id, tmp_path / "model.pt")
    assert path is not None and path.is_file()
    given = []
    monkeypatch.setattr(window.pad_panel, "set_model", lambda ckpt, label: given.append(label))
    with qtbot.waitSignal(window.evaluationFinished, timeout=TRAIN_TIMEOUT_MS):
        opened = window.open_checkpoint(path)
    assert opened is not None and opened.source == "opened"
    assert opened.extra["test_predictions"] is not None
    assert opened.metrics.accuracy == pytest.approx(record.metrics.accuracy)
    assert opened.history["epoch"] == [1.0]
    assert given and "model.pt" in given[-1]
    window.runs_panel.select(opened.id)
    assert window.metrics_view.matrix.size_n == 10
    # a file that is not a checkpoint is explained, not a traceback
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert window.open_checkpoint(bad) is None
    assert "not a readable lstm-desktop checkpoint" in window.error_banner.text


def test_export_curves_csv_and_png(qtbot, window, tmp_path, tiny_config):
    train(qtbot, window, tiny_config(epochs=1))
    csv_path = window.export_curves(tmp_path / "curves.csv")
    png_path = window.export_curves(tmp_path / "curves.png")
    with open(csv_path) as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["run", "curve", "epoch", "value"]
    names = {r[1] for r in rows[1:]}
    assert {"batch_loss", "batch_loss_smoothed", "train_loss", "val_loss", "val_accuracy"} <= names
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_copy_as_command(qtbot, window, tiny_config):
    record = train(qtbot, window, tiny_config(epochs=1))
    command = window.copy_command(record.id)
    assert command.startswith("lstm-desktop train --dataset digits")
    assert QApplication.clipboard().text() == command
    assert window.copy_command(record.id, torchrun=True).startswith("torchrun --nproc-per-node=")


def test_live_plot_controls(qtbot, window, tiny_config):
    train(qtbot, window, tiny_config(epochs=1))
    plots = window.plots
    plots.set_smoothing(0.0)
    plots.refresh()
    raw = plots.raw_curve.getData()[1]
    smooth = plots.ema_curve.getData()[1]
    assert np.allclose(raw, smooth)
    plots.set_smoothing(0.95)
    plots.refresh()
    assert not np.allclose(plots.raw_curve.getData()[1], plots.ema_curve.getData()[1])
    plots.log_check.setChecked(True)
    assert window.log_action.isChecked()
    plots.show_crosshair(0.5)
    assert "batch loss" in plots.readout.text()


def test_settings_are_remembered(qtbot, make_window, tmp_path):
    path = tmp_path / "remember.ini"
    first = make_window(settings_path=path)
    panel = first.config_panel
    panel.hidden_spin.setValue(48)
    panel.epochs_spin.setValue(7)
    panel.bidirectional_check.setChecked(True)
    panel.set_dataset("digits")
    first.close()
    second = make_window(settings_path=path)
    values = second.config_panel.values()
    assert (values["hidden"], values["epochs"], values["bidirectional"], values["dataset"]) == (48, 7, True, "digits")
    assert QSettings(str(path), QSettings.Format.IniFormat).value("train/config")


def test_invalid_values_are_explained_not_clamped(qtbot, window):
    panel = window.config_panel
    for spin, text, words in ((panel.hidden_spin, "0", "between 1 and 4096"), (panel.lr_spin, "20", "(0, 10]"),
                              (panel.epochs_spin, "-3", "Epochs must be"), (panel.lr_spin, "fast", "a number")):
        spin.lineEdit().setText(text)
        assert spin.lineEdit().text() == text  # kept as typed, never turned into another number
        assert words in panel.validation_error() and panel.error_label.isVisible()
        assert not window.controls.train_button.isEnabled()
        spin.setValue(spin.setting.default)
    assert panel.validation_error() is None and window.controls.train_button.isEnabled()


def test_typing_1e_4_gives_0_0001(qtbot, window):
    spin = window.config_panel.lr_spin
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "1e-4")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert spin.value() == 0.0001 and window.config_panel.config().lr == 0.0001
    assert spin.lineEdit().text() == "0.0001"
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Up)
    assert spin.value() == pytest.approx(0.00011)


def test_the_wheel_only_changes_a_focused_field(qtbot, window):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    spin = window.config_panel.epochs_spin
    window.activateWindow()
    QApplication.setActiveWindow(window)
    window.config_panel.layers_spin.setFocus()

    def wheel(widget):
        event = QWheelEvent(QPointF(5, 5), QPointF(widget.mapToGlobal(QPoint(5, 5))), QPoint(0, 0), QPoint(0, 120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(widget, event)

    before = spin.value()
    wheel(spin)
    assert spin.value() == before  # scrolling the settings past a field changes nothing
    window.activateWindow()
    QApplication.setActiveWindow(window)
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=5000)
    wheel(spin)
    assert spin.value() == before + 1


def test_every_panel_default_is_the_cli_default(window):
    from lstm_desktop.cli import build_parser
    from lstm_desktop.cli.train import config_from_args
    from lstm_desktop.core.training.config import DATASETS, TrainConfig

    panel = window.config_panel
    panel.set_config(TrainConfig())
    for dataset in DATASETS:
        panel.set_dataset(dataset)
        if panel.values()["dataset"] != dataset:
            continue  # a dataset the form does not list (the synthetic test pattern)
        cli = config_from_args(build_parser().parse_args(["train", "--dataset", dataset]))
        assert panel.config() == cli.replace(device=panel.config().device)


INTERACTIVE = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QAbstractSlider, QAbstractItemView,
               QTabBar, QMenuBar, QGraphicsView)
COMPOSITES = (QAbstractSpinBox, QComboBox, QLineEdit, QAbstractItemView, QTabBar, QGraphicsView)


def interactive_widgets(window: QWidget) -> list[QWidget]:
    from lstm_desktop.ui.widgets.confusion_matrix import ConfusionMatrixView

    found = []
    for w in window.findChildren(QWidget):
        if w.window() is not window or isinstance(w, QScrollBar):
            continue
        if not isinstance(w, (*INTERACTIVE, ConfusionMatrixView)):
            continue
        parent, internal = w.parentWidget(), False
        while parent is not None and parent is not window:
            if isinstance(parent, COMPOSITES):
                internal = True
                break
            parent = parent.parentWidget()
        if not internal and not w.objectName().startswith("qt_"):
            found.append(w)
    return found


def test_every_interactive_widget_has_names(window):
    widgets = interactive_widgets(window)
    assert len(widgets) > 40
    missing = [f"{type(w).__name__} {w.objectName()!r} (parent {w.parentWidget().objectName()!r})"
               for w in widgets if not w.objectName() or not w.accessibleName()]
    assert not missing, "widgets without objectName or accessible name:\n" + "\n".join(missing)


def test_run_app_shows_the_window_and_exits_zero_when_closed_mid_training(qtbot, monkeypatch, tiny_config):
    import signal

    from lstm_desktop.ui import app as app_module
    from lstm_desktop.ui.main_window import MainWindow

    app = QApplication.instance()
    previous_sigint = signal.getsignal(signal.SIGINT)
    seen: dict = {}

    def drive():
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            return
        w = windows[0]
        seen["window"] = w
        if w.is_ready and "started" not in seen:
            seen["started"] = w.start_training(tiny_config(epochs=500, batch_size=8))
        elif "started" in seen and w.plots.counts()["batches"] >= 3 and "closing" not in seen:
            seen["closing"] = True
            w.assume_yes = True  # the "stop and quit?" question, answered
            w.close()

    timer = QTimer()
    timer.timeout.connect(drive)
    timer.start(50)
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(app.quit)  # never hang the suite
    watchdog.start(TRAIN_TIMEOUT_MS)
    try:
        code = app_module.run_app([])
    finally:
        timer.stop()
        watchdog.stop()
        app.setQuitOnLastWindowClosed(True)
        signal.signal(signal.SIGINT, previous_sigint)
    assert code == 0
    assert seen.get("closing"), "the window never got to training"
    assert not seen["window"].running_threads()
    assert seen["started"].status in ("stopped", "finished")


def test_the_window_shows_the_epoch_estimate_before_a_long_run_trains(window):
    from lstm_desktop.core.training import events as ev
    from lstm_desktop.core.training.config import TrainConfig

    window.live.on_run_start(ev.RunStarted(TrainConfig.for_dataset("pixel-mnist", epochs=5)))
    window.live.on_fit_start(ev.FitStarted(5, 860, 55_000, 5_000, "cpu", 68_362, estimated_epoch_seconds=144.0))
    text = window.controls.message.text()
    assert "68,362 parameters" in text and "about 2 min per epoch here, 12 min for 5 epochs" in text
    window.live.on_fit_start(ev.FitStarted(5, 860, 55_000, 5_000, "cpu", 68_362))
    assert "per epoch" not in window.controls.message.text()
    window.live.timer.stop()
