"""The main window: its layout, menus and status bar, and the glue between the parts.

Start-up is split so the window shows at once: the constructor builds only plain Qt widgets; after
the first paint a background thread imports torch and pyqtgraph, finds the devices and reads the
shipped model (`worker.preload`), then the plots, the pad and the inside view are put in place and
`ready` is emitted. Where each responsibility lives:

- training: ui/training_controller.py (worker, thread, pause/stop, shutdown), fed to observers:
  ui/live_view.py (curves, progress) and core/runs/recorder.py (the run's record, in the store and core/runs/evented_runs.py);
  a run's life and the store: ui/run_lifecycle.py; Compare cells: ui/compare_cells.py;
- runs and results: ui/results_tab.py over the Runs model, edited by ui/run_editing.py; files: ui/file_actions.py;
- data on disk and the download: ui/data_controller.py; settings: ui/window_settings.py;
- the pad and the inside view: ui/draw_tab.py (its model: ui/pad_model.py), computed on ui/inference_worker.py's thread.
Each part gets the widgets, models and callables it uses, never the window; this class composes them
(ui/window_layout.py builds the widgets and menus), and messages go through ui/messages.py.
"""

from __future__ import annotations

import logging
import sys
import gc
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QSettings, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.errors import ConfigError
from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.core.runs.store import RunStore
from lstm_desktop.ui.app_events import FirstPaint, QuitWatch
from lstm_desktop.ui.data_controller import DataController
from lstm_desktop.ui.file_actions import FileActions
from lstm_desktop.ui.inference_worker import InferenceWorker
from lstm_desktop.ui.live_view import LiveView
from lstm_desktop.ui.compare_cells import CompareCells
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.pad_model import PadModel
from lstm_desktop.ui.run_editing import RunEditor, confirm_quit_while_training
from lstm_desktop.ui.run_views import SharedTestImages
from lstm_desktop.ui.window_layout import add_menus, build_layout, place_plots
from lstm_desktop.ui.run_lifecycle import RunLifecycle
from lstm_desktop.ui.training_controller import IDLE, LOADING, PAUSED, STOPPING, TRAINING, TrainingController
from lstm_desktop.ui.widgets.app_icon import make_icon
from lstm_desktop.ui.window_settings import WindowSettings
from lstm_desktop.ui.worker import TaskWorker, WorkerThread, preload

log = logging.getLogger(__name__)

APP_TITLE = "LSTM Desktop"
TAB_TRAIN, TAB_RESULTS, TAB_DRAW, TAB_INSIDE = range(4)


class MainWindow(QMainWindow):
    ready = Signal()                 # start-up loading done: devices, plots, pad and inside view in place
    stateChanged = Signal(str)       # idle, loading, training, paused, stopping
    trainingFinished = Signal(int)   # run id, once its thread has ended
    evaluationFinished = Signal(int)  # run id of an opened model scored on its test set
    downloadFinished = Signal(bool)  # download-only task ended (True: files are there)
    closed = Signal()                # the window really closed (every background thread has ended)
    assume_yes = False               # automation: every question ("Stop and quit?", "Delete runs?") answered yes

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The training threads and this one share the GIL: hand it over every 1 ms instead of 5 ms
        # so Python work here (plot updates) never stalls a training step for long.
        sys.setswitchinterval(0.001)
        self.prefs = WindowSettings(settings if settings is not None else QSettings())
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(make_icon())
        self.setAccessibleName(APP_TITLE)
        self.is_ready = False
        self.state = IDLE
        self.plots = None
        self.gradient_view = None
        self.draw = None
        self.pad_panel = None
        self.inside_view = None
        self.shipped_checkpoint = None
        self.runs = Runs()
        self.shared_test_images = SharedTestImages()
        self.training = TrainingController(self)
        self.inference = InferenceWorker(self)
        self._startup: WorkerThread | None = None
        self._close_pending = False
        self._loading_started = False
        self.shown_at: float | None = None
        self.ready_at: float | None = None
        build_layout(self)  # every widget, named; the parts below get the ones they use
        # the parts, each given the widgets, models and callables it uses (never the window)
        self.messages = msg = Messages(self.error_banner, self.state_label)
        self.live = LiveView(self.runs, self.training, self.controls, self.data_banner, self.train_tab.run_label,
                             self.device_label, msg, self)
        self.lifecycle = RunLifecycle(self.runs, self.training, self.live, self.results, self.data_banner, msg,
                                      lambda: self.config_panel.values().get("data_dir"), self.shared_test_images,
                                      lambda run: self.use_on_pad(run, switch=True), self)
        self.pad_model = PadModel(self.runs, self.prefs, self.model_label, self.lifecycle.checkpoint_of,
                                  lambda: self.tabs.setCurrentIndex(TAB_DRAW), self)
        self.run_editor = RunEditor(self.runs, self.runs_panel, lambda: self.store, msg, lambda: self.assume_yes, self)
        self.files = FileActions(self.runs, self.lifecycle, self.pad_model, self.results, self.config_panel,
                                 self.prefs, msg, lambda: self.is_ready, self.maybe_finish_close, self)
        self.data = DataController(self.data_banner, self.config_panel,
                                   lambda: self.training.is_training() and self.stop_training(), msg,
                                   lambda: self.is_ready, lambda: self._close_pending, self.refresh_state,
                                   self.maybe_finish_close, self)
        self.compare = CompareCells(self.runs, self.training, self.config_panel, self.prefs, self.runs_panel, msg,
                                    self.start_training, lambda: self._close_pending, lambda: self.assume_yes, self)
        add_menus(self)  # File, Training, View, Help: self.train_action, self.log_action, …
        self._wire()
        self.kept = dict(config_panel=self.config_panel, frame=self, tabs=self.tabs, splitters={
            "window/train_splitter": self.train_splitter, "window/results_splitter": self.results_splitter})
        self.prefs.restore_window(**self.kept)
        self._first_paint = FirstPaint(self.start_loading, self)
        self.tabs.installEventFilter(self._first_paint)
        app = QCoreApplication.instance()
        self.app_quitting = False
        if app is not None:  # QApplication.quit() during training: stop and wait, then exit 0
            self._quit_watch = QuitWatch(lambda: setattr(self, "app_quitting", True), self)
            app.installEventFilter(self._quit_watch)
            app.aboutToQuit.connect(self.shutdown)
        self.refresh_state()
        self.set_status("Starting…")

    # ================================================================== construction
    def _wire(self) -> None:
        c = self.controls
        c.trainRequested.connect(self.start_training)
        c.pauseRequested.connect(self.pause_training)
        c.resumeRequested.connect(self.resume_training)
        c.stopRequested.connect(self.stop_training)
        self.config_panel.configChanged.connect(lambda: self.state == IDLE and self.refresh_state())
        self.config_panel.datasetChanged.connect(lambda _d: self.data.check())
        self.config_panel.dataDirChanged.connect(lambda _d: self.data.check())
        self.training.stateChanged.connect(lambda _state: self.refresh_state())
        self.lifecycle.runEnded.connect(self._on_run_ended)
        self.lifecycle.tests.ended.connect(self.maybe_finish_close)  # closing waits for a test set being loaded
        self.closed.connect(self.lifecycle.stop_watching)
        self.runs_panel.usePadRequested.connect(lambda rid: self.use_on_pad(self.runs.get(rid), switch=True))
        self.files.evaluationFinished.connect(self.evaluationFinished)
        self.data.downloadFinished.connect(self.downloadFinished)
        self.results.imageSelected.connect(self._on_image_selected)
        self.results.imageOpenRequested.connect(self._on_image_open)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.trainingFinished.connect(self.compare.on_run_finished)
        for stop in (self.controls.stopRequested, self.stop_action.triggered):  # Stop ends Compare cells whole
            stop.connect(self.compare.abort)

    # ================================================================== start-up
    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self.shown_at is None:
            self.shown_at = time.perf_counter()
            QTimer.singleShot(500, self, self.start_loading)  # in case no paint event comes (minimised...)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self.error_banner.reposition()

    def start_loading(self) -> None:
        """Import the heavy libraries on a worker thread (once); `ready` follows."""
        if self._loading_started:
            return
        self._loading_started = True
        self.set_status("Loading PyTorch…")
        worker = TaskWorker(preload, "start-up")
        worker.succeeded.connect(self._on_preloaded)
        worker.failed.connect(self._on_preload_failed)
        self._startup = WorkerThread(worker, "lstm-desktop-startup")
        self._startup.thread.finished.connect(self._on_startup_thread_finished)
        self._startup.start()

    def _on_preload_failed(self, message: str, hint: str) -> None:
        self.show_error(f"Could not load PyTorch: {message}", hint)
        self.set_status("PyTorch could not be loaded")

    def _on_startup_thread_finished(self) -> None:
        if self._startup is not None:
            self._startup.release()
            self._startup = None
        self.maybe_finish_close()

    def _on_preloaded(self, result: dict) -> None:
        if self._close_pending:
            return
        from lstm_desktop.core.data.shapes import parameter_count
        from lstm_desktop.ui.draw_tab import DrawTab
        from lstm_desktop.ui.interrupted_notice import tell_interrupted

        place_plots(self)  # self.plots, self.gradient_view
        self.config_panel.set_devices(result["devices"])
        self.config_panel.set_default_data_dir(result["default_data_dir"])
        self.config_panel.set_parameter_counter(parameter_count)
        self.lifecycle.open_store()  # before the pad's model list exists: it is then built once
        self.draw = DrawTab(self.runs, self.use_on_pad, self.draw_tab, self.inside_tab, self.inference, self)
        self.pad_panel, self.inside_view = self.draw.pad_panel, self.draw.inside_view
        self.live.attach(self.plots, self.gradient_view, self.draw.explainer)
        self.files.plots = self.plots  # File › Export curves
        from lstm_desktop.ui.teach import Teacher
        self.teacher = Teacher(self.draw.teach_row, self.pad_panel, self.pad_model, self.runs, lambda: self.store,
                               self.messages, self.maybe_finish_close, self)
        self._on_tab_changed(self.tabs.currentIndex())
        self.shipped_checkpoint = result.get("shipped")
        self.pad_model.attach(self.draw, self.shipped_checkpoint)
        self.pad_model.restore()
        self.is_ready = True
        self.ready_at = time.perf_counter()
        self.data.check()
        self.refresh_state()
        if not self.state_label.text().startswith(("MNIST", "Download", "Cannot")):
            self.set_status("Ready")
        tell_interrupted(self.store, self.runs, self.prefs, self.messages,  # runs a crash or a kill left: told once
                         lambda rid: (self.tabs.setCurrentWidget(self.results), self.runs_panel.select(rid)))
        self.ready.emit()
        gc.collect(), gc.freeze()  # what start-up loaded stays: full collections never walk 10,000 runs again

    # ================================================================== state and messages
    def set_status(self, text: str) -> None:
        self.messages.set_status(text)

    def show_error(self, message: str, hint: str = "", kind: str = "error", action=None) -> None:
        self.messages.show_error(message, hint, kind, action)

    def hide_error(self) -> None:
        self.messages.hide_error()

    def refresh_state(self) -> None:
        state = self.training.state
        self.state = state
        can_train = self.is_ready and self.config_panel.validation_error() is None
        self.controls.set_state(state, can_train)
        busy = state in (LOADING, TRAINING, PAUSED, STOPPING)
        self.config_panel.set_editable(not busy)
        self.train_action.setEnabled(not busy and can_train)
        self.pause_action.setEnabled(state in (TRAINING, PAUSED))
        self.stop_action.setEnabled(state in (LOADING, TRAINING, PAUSED))
        self.open_action.setEnabled(self.is_ready)
        self.data_banner.download_button.setEnabled(not busy)
        if not busy:
            self.device_label.setText(f"Device: {self.config_panel.device_combo.currentText()}")
        self.stateChanged.emit(state)

    def _on_run_ended(self, run: Run | None) -> None:
        self.refresh_state()
        self.data.check()
        if run is not None:
            self.trainingFinished.emit(run.id)
        self.maybe_finish_close()

    # ================================================================== runs and models
    @property
    def store(self) -> RunStore | None:
        """The run store (None until start-up opened it, or when runs cannot be kept)."""
        return self.lifecycle.store

    def new_run(self, name: str | None, config: TrainConfig | None, **fields: Any) -> Run:
        return self.lifecycle.new_run(name, config, **fields)

    def use_on_pad(self, run: Run | None, switch: bool = False) -> None:
        """The pad reads with this run's model (None: the shipped model); switch: show the Draw tab."""
        self.pad_model.use_on_pad(run, switch)

    # ================================================================== training
    @property
    def training_worker(self):
        return self.training.worker

    def is_training(self) -> bool:
        return self.training.is_training()

    def start_training(self, config: TrainConfig | None = None, callbacks=(), control=None) -> Run | None:
        """Train with the panel's settings (or `config`); returns the new run. callbacks: extra core
        callbacks run on the worker thread; control: a TrainingControl to use (both for automation and
        benchmarks; the window's buttons work either way)."""
        if not self.is_ready or self.training.is_training() or self._close_pending:
            return None
        if config is None or not isinstance(config, TrainConfig):
            try:
                config = self.config_panel.config()
            except ConfigError as exc:
                self.show_error(exc.message, exc.hint)
                return None
        else:
            self.config_panel.set_config(config)
        self.prefs.save_config(config)
        if not self.data.ready_for(config.dataset, lambda: self.start_training(config, callbacks, control)):
            return None  # downloading first: a run exists only once its data does
        self.hide_error()
        probe = self.pad_panel.probe.get if self.pad_panel is not None else None  # the pad's digit, scored each epoch
        return self.lifecycle.start(config, False, callbacks, control, probe)

    def pause_training(self) -> None:
        if self.training.pause():
            self.set_status("Paused")
            self.controls.set_message("Paused after the current batch. Resume to continue, Stop to keep "
                                      "the last finished epoch.")
            self.training.drain()
            QTimer.singleShot(300, self, self.training.drain)  # the batch running when Pause was pressed

    def resume_training(self) -> None:
        if self.training.resume():
            self.controls.set_message("")
            self.set_status("Training")

    def toggle_pause(self) -> None:
        self.resume_training() if self.state == PAUSED else self.pause_training()

    def stop_training(self) -> None:
        if self.training.stop():
            self.controls.set_message("Stopping after the current batch…")
            self.set_status("Stopping…")

    # ================================================================== results, files
    def copy_command(self, run_id: int, torchrun: bool = False) -> str:
        return self.run_editor.copy_command(run_id, torchrun)

    def save_run(self, run_id: int | None = None, path: str | Path | None = None) -> Path | None:
        return self.files.save_run(run_id, path)

    def open_checkpoint(self, path: str | Path | None = None) -> Run | None:
        return self.files.open_checkpoint(path)

    def export_curves(self, path: str | Path | None = None, kind: str | None = None) -> Path | None:
        return self.files.export_curves(path, kind)

    def _on_image_selected(self, image: np.ndarray, label: str, run_id: int = -1) -> None:
        run = self.runs.get(run_id)  # a test image is explained with its own run's model
        if self.draw is not None:
            self.draw.explain_image(image, label, self.lifecycle.checkpoint_of(run), run.label if run else "")
        self.messages.notice(f"{label} sent to 'Inside the LSTM' (double-click to go there)")

    def _on_image_open(self, image: np.ndarray, label: str, run_id: int = -1) -> None:
        self._on_image_selected(image, label, run_id)
        self.tabs.setCurrentIndex(TAB_INSIDE)

    def _on_tab_changed(self, index: int) -> None:
        if self.draw is not None:
            self.draw.place_inside_view(index == TAB_DRAW)

    # ================================================================== settings
    def save_settings(self) -> None:
        self.prefs.save_window(plots=self.plots, **self.kept)

    # ================================================================== closing
    def _threads(self) -> list[WorkerThread]:
        teacher = getattr(self, "teacher", None)
        jobs = [self._startup, self.training._job, self.data.job, *self.files.tasks,
                teacher.job if teacher is not None else None, *self.lifecycle.tests.threads()]
        return [t for t in jobs if t is not None]

    def running_threads(self) -> list[WorkerThread]:
        return [t for t in self._threads() if t.is_running()]

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt name
        busy = self.running_threads()
        if busy and not self._close_pending:
            if (self.training.is_training() and not self.app_quitting
                    and not confirm_quit_while_training(self, self.assume_yes, self.live.epochs_done)):
                event.ignore()
                return
            # Ask every worker to stop, hide now, and close for real when the last thread has ended.
            self._close_pending = True
            for job in busy:
                job.stop()
            self.set_status("Stopping before closing…")
            self.save_settings()
            event.ignore()
            self.hide()
            return
        if busy:
            event.ignore()
            return
        if not self._close_pending:
            self.save_settings()
        self._close_pending = False
        self.inference.close()
        event.accept()
        self.closed.emit()

    def maybe_finish_close(self) -> None:
        if self._close_pending and not self.running_threads():
            QTimer.singleShot(0, self, self.close)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop every background thread and wait for it (the application quits, or logs out)."""
        others = [j for j in self._threads() if j is not self.training._job]
        for job in others:
            job.stop()
        ok = self.training.shutdown(timeout_ms)  # waits, then delivers the run's last events
        for job in others:
            ok = job.wait(timeout_ms) and ok
        QCoreApplication.sendPostedEvents()
        self.inference.close()
        self.lifecycle.close()
        return ok
