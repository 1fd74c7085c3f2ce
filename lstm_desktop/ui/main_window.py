"""The main window: configure and train (live curves), results and runs, drawing pad, inside view.

Start-up is split so the window shows at once: the constructor builds only plain Qt widgets; after
the first paint a background thread imports torch and pyqtgraph, finds the devices and reads the
shipped model (`worker.preload`), then the plots, the pad and the inside view are put in place and
`ready` is emitted.

The core never sees Qt: training runs in a TrainingWorker on a QThread and reports through signals;
stop and pause set the worker's TrainingControl flags directly.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QFileDialog, QLabel, QMainWindow, QMessageBox, QScrollArea,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from lstm_desktop.core.config import TrainConfig
from lstm_desktop.core.errors import ConfigError
from lstm_desktop.ui.widgets.app_icon import make_icon
from lstm_desktop.ui.widgets.banners import DataBanner, MessageBanner
from lstm_desktop.ui.widgets.common import format_percent, muted, named
from lstm_desktop.ui.widgets.config_panel import ConfigPanel
from lstm_desktop.ui.widgets.metrics_view import MetricsView
from lstm_desktop.ui.widgets.runs_panel import RunRecord, RunsPanel
from lstm_desktop.ui.widgets.training_controls import (IDLE, LOADING, PAUSED, STOPPING, TRAINING,
                                                       TrainingControls)
from lstm_desktop.ui.worker import TaskWorker, TrainingWorker, WorkerThread, preload

log = logging.getLogger(__name__)

APP_TITLE = "LSTM Desktop"
TAB_TRAIN, TAB_RESULTS, TAB_DRAW, TAB_INSIDE = range(4)


class PausableClock:
    """Seconds of running time, not counting pauses."""

    def __init__(self) -> None:
        self._total = 0.0
        self._since: float | None = None

    def start(self) -> None:
        self._total, self._since = 0.0, time.perf_counter()

    def pause(self) -> None:
        if self._since is not None:
            self._total += time.perf_counter() - self._since
            self._since = None

    def resume(self) -> None:
        if self._since is None:
            self._since = time.perf_counter()

    def seconds(self) -> float:
        return self._total + (time.perf_counter() - self._since if self._since is not None else 0.0)


class _FirstPaint(QObject):
    """Calls back once, on the first paint of the watched widget."""

    def __init__(self, callback, parent: QObject) -> None:
        super().__init__(parent)
        self._callback = callback

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            callback, self._callback = self._callback, None
            QTimer.singleShot(0, self, callback)
        return False


class MainWindow(QMainWindow):
    ready = Signal()                 # start-up loading done: devices, plots, pad and inside view in place
    stateChanged = Signal(str)       # idle, loading, training, paused, stopping
    trainingFinished = Signal(int)   # run number, once its thread has ended
    evaluationFinished = Signal(int)  # run number of an opened checkpoint scored on its test set
    downloadFinished = Signal(bool)  # download-only task ended (True: files are there)
    closed = Signal()                # the window really closed (every background thread has ended)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The training threads and this one share the GIL: hand it over every 1 ms instead of 5 ms
        # so Python work here (plot updates) never stalls a training step for long.
        sys.setswitchinterval(0.001)
        self.settings = settings if settings is not None else QSettings()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(make_icon())
        self.setAccessibleName(APP_TITLE)
        self.is_ready = False
        self.state = IDLE
        self.pad_panel = None
        self.inside_view = None
        self.plots = None
        self.comparison = None
        self.shipped_checkpoint = None
        self.active_model = None
        self._startup: WorkerThread | None = None
        self._train: WorkerThread | None = None
        self._tasks: list[WorkerThread] = []
        self._download: WorkerThread | None = None
        self._live: RunRecord | None = None
        self._run_counter = 0
        self._close_pending = False
        self._fit_info: dict[str, Any] = {}
        self._epochs_done = 0
        self._last_row: np.ndarray | None = None
        self._run_clock = PausableClock()
        self._fit_clock = PausableClock()
        self._test_cache: dict[tuple, np.ndarray] = {}
        self._loading_started = False
        self.shown_at: float | None = None
        self.ready_at: float | None = None

        self._build_ui()
        self._build_menus()
        self._restore_settings()
        self._clock = QTimer(self)
        self._clock.setInterval(250)  # progress bars and times; QProgressBar repaints at once
        self._clock.timeout.connect(self._tick)
        self._first_paint = _FirstPaint(self.start_loading, self)
        self.tabs.installEventFilter(self._first_paint)
        self._set_state(IDLE)
        self.set_status("Starting…")

    # ================================================================== construction
    def _build_ui(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 8, 8, 4)
        outer.setSpacing(6)
        self.error_banner = MessageBanner("errorBanner", "Message")
        outer.addWidget(self.error_banner)
        self.tabs = named(QTabWidget(), "mainTabs", "Sections")
        self.tabs.tabBar().setObjectName("mainTabBar")
        self.tabs.tabBar().setAccessibleName("Sections")
        self.tabs.setDocumentMode(True)
        outer.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        # --- Train: settings and controls on the left, data banner and live curves on the right
        self.config_panel = ConfigPanel()
        self.controls = TrainingControls()
        left = QWidget()
        left.setObjectName("trainSidebar")
        ll = QVBoxLayout(left)
        ll.setContentsMargins(4, 4, 10, 4)
        ll.setSpacing(10)
        ll.addWidget(self.config_panel)
        ll.addWidget(self.controls)
        ll.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("trainSidebarScroll")
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(360)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        right = QWidget()
        right.setObjectName("trainCurves")
        self._curves_layout = QVBoxLayout(right)
        self._curves_layout.setContentsMargins(4, 4, 4, 4)
        self.data_banner = DataBanner()
        self._curves_layout.addWidget(self.data_banner)
        self._plots_placeholder = muted("Loading the plotting library…")
        self._plots_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._curves_layout.addWidget(self._plots_placeholder, 1)
        self.train_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.train_splitter.setObjectName("trainSplitter")
        self.train_splitter.addWidget(scroll)
        self.train_splitter.addWidget(right)
        self.train_splitter.setStretchFactor(0, 0)
        self.train_splitter.setStretchFactor(1, 1)
        self.train_splitter.setSizes([380, 900])
        self.tabs.addTab(self.train_splitter, "Train")

        # --- Results: runs and their comparison on the left, the selected model's metrics on the right
        self.runs_panel = RunsPanel()
        self.metrics_view = MetricsView()
        self.results_left = QSplitter(Qt.Orientation.Vertical)
        self.results_left.setObjectName("resultsLeftSplitter")
        self.results_left.addWidget(self.runs_panel)
        self._compare_placeholder = muted("Loading…")
        self.results_left.addWidget(self._compare_placeholder)
        self.results_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.results_splitter.setObjectName("resultsSplitter")
        self.results_splitter.addWidget(self.results_left)
        self.results_splitter.addWidget(self.metrics_view)
        self.results_splitter.setSizes([520, 760])
        self.tabs.addTab(self.results_splitter, "Results")

        # --- Draw and Inside the LSTM: filled in once torch is loaded
        self.draw_tab = QWidget()
        self.draw_tab.setObjectName("drawTab")
        QVBoxLayout(self.draw_tab).addWidget(muted("Loading the drawing pad…"))
        self.inside_tab = QWidget()
        self.inside_tab.setObjectName("insideTab")
        QVBoxLayout(self.inside_tab).addWidget(muted("Loading…"))
        self.tabs.addTab(self.draw_tab, "Draw")
        self.tabs.addTab(self.inside_tab, "Inside the LSTM")

        # --- status bar
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        self.state_label = named(QLabel(""), "stateLabel", "Training state")
        self.model_label = named(QLabel(""), "modelLabel", "Model in use")
        self.device_label = named(QLabel(""), "deviceLabel", "Compute device")
        for label in (self.state_label, self.model_label, self.device_label):
            label.setContentsMargins(8, 0, 8, 0)
        bar.addWidget(self.state_label, 1)
        bar.addPermanentWidget(self.model_label)
        bar.addPermanentWidget(self.device_label)

        # --- wiring
        self.controls.trainRequested.connect(self.start_training)
        self.controls.pauseRequested.connect(self.pause_training)
        self.controls.resumeRequested.connect(self.resume_training)
        self.controls.stopRequested.connect(self.stop_training)
        self.config_panel.configChanged.connect(self._on_config_changed)
        self.config_panel.datasetChanged.connect(lambda _d: self.check_data())
        self.config_panel.dataDirChanged.connect(lambda _d: self.check_data())
        self.data_banner.downloadRequested.connect(self.download_mnist)
        self.data_banner.chooseFolderRequested.connect(self.config_panel.choose_data_dir)
        self.data_banner.useDigitsRequested.connect(lambda: self.config_panel.set_dataset("digits"))
        self.data_banner.cancelRequested.connect(self._cancel_download)
        self.runs_panel.currentRunChanged.connect(self._on_run_selected)
        self.runs_panel.overlayChanged.connect(self._update_comparison)
        self.runs_panel.saveRequested.connect(lambda n: self.save_run(n))
        self.runs_panel.copyCommandRequested.connect(self.copy_command)
        self.runs_panel.removeRequested.connect(self.remove_run)
        self.metrics_view.imageSelected.connect(self._on_image_selected)
        self.metrics_view.imageOpenRequested.connect(self._on_image_open)

    def _action(self, menu, text: str, name: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        bar.setObjectName("menuBar")
        bar.setAccessibleName("Menu bar")
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(file_menu, "&Open checkpoint…", "openAction", lambda: self.open_checkpoint(),
                                        QKeySequence.StandardKey.Open, "Open a saved model and score it on its test set")
        self.save_action = self._action(file_menu, "&Save model…", "saveAction", lambda: self.save_run(),
                                        QKeySequence.StandardKey.Save, "Save the selected run's model")
        self.export_action = self._action(file_menu, "&Export curves…", "exportAction", lambda: self.export_curves(),
                                          "Ctrl+E", "Save the curves as CSV or PNG")
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "&Quit", "quitAction", self.close, "Ctrl+Q")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        train_menu = bar.addMenu("&Training")
        self.train_action = self._action(train_menu, "&Train", "trainAction", self.start_training, "Ctrl+Return")
        self.pause_action = self._action(train_menu, "&Pause / resume", "pauseAction", self.toggle_pause, "Ctrl+P")
        self.stop_action = self._action(train_menu, "&Stop", "stopAction", self.stop_training, "Ctrl+.")

        view_menu = bar.addMenu("&View")
        self.log_action = self._action(view_menu, "&Logarithmic loss axis", "logAction",
                                       lambda on: self.plots and self.plots.set_log_scale(on), "Ctrl+L")
        self.log_action.setCheckable(True)
        view_menu.addSeparator()
        for i, name in enumerate(("Train", "Results", "Draw", "Inside the LSTM")):
            self._action(view_menu, name, f"tab{i}Action", lambda _=False, i=i: self.tabs.setCurrentIndex(i),
                         f"Ctrl+{i + 1}")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About LSTM Desktop", "aboutAction", self._about)

    # ================================================================== start-up
    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self.shown_at is None:
            self.shown_at = time.perf_counter()
            QTimer.singleShot(500, self, self.start_loading)  # in case no paint event comes (minimised...)

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

    def _on_startup_thread_finished(self) -> None:
        if self._startup is not None:
            self._startup.release()
            self._startup = None
        self._maybe_finish_close()

    def _on_preload_failed(self, message: str, hint: str) -> None:
        self.error_banner.show_message(f"Could not load PyTorch: {message}", hint)
        self.set_status("PyTorch could not be loaded")

    def _on_preloaded(self, result: dict) -> None:
        if self._close_pending:
            return
        from lstm_desktop.ui.widgets.live_plots import LivePlots
        from lstm_desktop.ui.widgets.run_comparison import RunComparisonPlot

        self.plots = LivePlots()
        self._curves_layout.replaceWidget(self._plots_placeholder, self.plots)
        self._plots_placeholder.deleteLater()
        self.plots.export_png_button.clicked.connect(lambda: self.export_curves(kind="png"))
        self.plots.export_csv_button.clicked.connect(lambda: self.export_curves(kind="csv"))
        self.plots.set_smoothing(float(self.settings.value("plots/smoothing", 0.9)))
        log_on = str(self.settings.value("plots/log", "false")).lower() == "true"
        self.plots.set_log_scale(log_on)
        self.log_action.setChecked(log_on)
        self.plots.logScaleChanged.connect(self.log_action.setChecked)

        self.comparison = RunComparisonPlot()
        self.results_left.replaceWidget(1, self.comparison)
        self._compare_placeholder.deleteLater()

        self.config_panel.set_devices(result["devices"])
        self.config_panel.set_default_data_dir(result["default_data_dir"])

        from lstm_desktop.ui.inside_view import InsideView
        from lstm_desktop.ui.pad_panel import PadPanel

        self.pad_panel = PadPanel()
        self.pad_panel.setObjectName(self.pad_panel.objectName() or "padPanel")
        self.draw_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.draw_splitter.setObjectName("drawSplitter")
        self.draw_splitter.addWidget(self.pad_panel)
        self._replace_tab_content(self.draw_tab, self.draw_splitter)
        self.inside_view = InsideView()
        self.inside_view.setObjectName(self.inside_view.objectName() or "insideView")
        self._replace_tab_content(self.inside_tab, self.inside_view)
        self.tabs.currentChanged.connect(self._place_inside_view)
        self._place_inside_view(self.tabs.currentIndex())
        self.pad_panel.inputChanged.connect(self._on_pad_input)

        self.shipped_checkpoint = result.get("shipped")
        if self.shipped_checkpoint is not None:
            self._use_model(self.shipped_checkpoint, f"Shipped model ({Path(result['shipped_path']).name})")
        else:
            self._use_model(None, "No model yet: train one or open a checkpoint (Ctrl+O)")
            log.info("no shipped model: %s", result.get("shipped_error"))

        self.is_ready = True
        self.ready_at = time.perf_counter()
        self.check_data()
        self._set_state(IDLE)
        self.set_status("Ready")
        self.ready.emit()

    def _on_pad_input(self, image) -> None:
        """The digit on the pad is explained live (the view only computes while it is on screen)."""
        if self.inside_view is not None:
            self.inside_view.set_input(image, "your drawing" if image is not None else "")

    def _place_inside_view(self, index: int) -> None:
        """One InsideView follows the user: beside the pad on Draw (so it updates live while they
        draw), full size on its own tab."""
        view = self.inside_view
        if view is None:
            return
        if index == TAB_DRAW and view.parent() is not self.draw_splitter:
            self.draw_splitter.addWidget(view)
            self.draw_splitter.setStretchFactor(0, 0)
            self.draw_splitter.setStretchFactor(1, 1)
            width = max(self.draw_splitter.width(), 1200)
            self.draw_splitter.setSizes([int(width * 0.42), int(width * 0.58)])
        elif index == TAB_INSIDE and view.parent() is not self.inside_tab:
            self.inside_tab.layout().addWidget(view)

    @staticmethod
    def _replace_tab_content(tab: QWidget, widget: QWidget) -> None:
        layout = tab.layout()
        while layout.count():
            item = layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget)

    # ================================================================== state and status
    def set_status(self, text: str) -> None:
        self.state_label.setText(text)

    def _set_state(self, state: str) -> None:
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
        self._update_device_label()
        self.stateChanged.emit(state)

    def _update_device_label(self) -> None:
        if self.state in (TRAINING, PAUSED, STOPPING) and self._fit_info.get("device"):
            self.device_label.setText(f"Device: {self._fit_info['device']}")
        else:
            self.device_label.setText(f"Device: {self.config_panel.device_combo.currentText()}")

    def _on_config_changed(self) -> None:
        if self.state == IDLE:
            self._set_state(IDLE)

    def _use_model(self, checkpoint, label: str) -> None:
        """The model the pad predicts with and the inside view explains."""
        self.active_model = checkpoint
        self.model_label.setText(f"Model: {label}")
        if self.pad_panel is not None:
            try:
                self.pad_panel.set_model(checkpoint, label)
            except Exception:  # the pad belongs to another component; never let it break the window
                log.exception("pad_panel.set_model failed")
        if self.inside_view is not None:
            try:
                self.inside_view.set_model(checkpoint)
            except Exception:
                log.exception("inside_view.set_model failed")

    def show_error(self, message: str, hint: str = "", kind: str = "error") -> None:
        self.error_banner.show_message(message, hint, kind)
        self.set_status(message)

    # ================================================================== data
    def check_data(self) -> bool:
        """Show the data banner when MNIST is selected but missing; True when training can load data."""
        if not self.is_ready or (self._download is not None and self._download.is_running()):
            return True
        values = self.config_panel.values()
        if values["dataset"] != "mnist":
            self.data_banner.hide()
            return True
        from lstm_desktop.core.data import missing_mnist_files, mnist_raw_dir, resolve_data_dir

        root = resolve_data_dir(values["data_dir"])
        missing = missing_mnist_files(root)
        if missing:
            self.data_banner.show_missing(str(mnist_raw_dir(root)), missing)
            return False
        if self.data_banner.kind != "success":
            self.data_banner.hide()
        return True

    def download_mnist(self) -> None:
        if not self.is_ready or self._download is not None:
            return
        from lstm_desktop.core.data import download_mnist, resolve_data_dir
        from lstm_desktop.core.events import DownloadProgress

        root = resolve_data_dir(self.config_panel.values()["data_dir"])

        def task(control, progress):
            def on_event(event):
                if isinstance(event, DownloadProgress):
                    progress((event.file, float(event.done_bytes), float(event.total_bytes)))
            download_mnist(root, on_event, should_stop=lambda: control.stop_requested)
            return str(root)

        worker = TaskWorker(task, "download")
        worker.progressed.connect(lambda v: self.data_banner.set_progress(*v))
        worker.succeeded.connect(self._on_download_done)
        worker.failed.connect(self._on_download_failed)
        self._download = WorkerThread(worker, "lstm-desktop-download")
        self._download.thread.finished.connect(self._on_download_thread_finished)
        self.data_banner.set_downloading(True, f"into {root}")
        self._set_state(self.state)
        self._download.start()

    def _cancel_download(self) -> None:
        if self._download is not None:
            self._download.stop()
        if self._train is not None:
            self.stop_training()

    def _on_download_done(self, root: str) -> None:
        self.data_banner.set_downloading(False)
        self.data_banner.show_message(f"MNIST is ready in {root}.", "", "success")
        self.set_status("MNIST downloaded")
        QTimer.singleShot(4000, self, lambda: self.data_banner.kind == "success" and self.data_banner.hide())

    def _on_download_failed(self, message: str, hint: str) -> None:
        self.data_banner.show_error(message, hint)
        self.set_status("Download failed")

    def _on_download_thread_finished(self) -> None:
        ok = False
        if self._download is not None:
            self._download.release()
            self._download = None
        if self.data_banner.kind == "success":
            ok = True
        elif self.data_banner.kind != "error":
            self.check_data()
        self._set_state(self.state)
        self.downloadFinished.emit(ok)
        self._maybe_finish_close()

    # ================================================================== training
    @property
    def training_worker(self) -> TrainingWorker | None:
        return self._train.worker if self._train is not None else None  # type: ignore[return-value]

    def is_training(self) -> bool:
        return self._train is not None

    def _probe_source(self):
        pad = self.pad_panel
        return pad.current_input if pad is not None else None

    def start_training(self, config: TrainConfig | None = None, callbacks=(), control=None) -> RunRecord | None:
        """Train with the panel's settings (or `config`); returns the new run's record.

        callbacks: extra core callbacks run on the worker thread; control: a TrainingControl to use
        (both for automation and benchmarks; the window's buttons work either way).
        """
        if not self.is_ready or self._train is not None or self._close_pending:
            return None
        if config is None or not isinstance(config, TrainConfig):
            try:
                config = self.config_panel.config()
            except ConfigError as exc:
                self.show_error(exc.message, exc.hint)
                return None
        else:
            self.config_panel.set_config(config)
        self._save_config(config)
        download = False
        if config.dataset == "mnist" and not self.check_data():
            download = True
            self.data_banner.set_downloading(True, "then training starts")
        if self._download is not None:
            self.show_error("MNIST is still downloading.", "Wait for it to finish, or cancel it.", "warning")
            return None
        self.error_banner.hide()
        self._run_counter += 1
        record = RunRecord(self._run_counter, f"Run {self._run_counter}", config, "trained", "training",
                           dataset=config.dataset)
        self._live = record
        self._fit_info = {}
        self._last_row = None
        self._epochs_done = 0
        if self.plots is not None:
            self.plots.clear()
            self.plots.set_x_extent(float(config.epochs))
        self.controls.reset(config.epochs)
        self.controls.set_message("Loading data…")
        self.runs_panel.add_run(record)

        worker = TrainingWorker(config, probe=self._probe_source(), download=download, callbacks=callbacks,
                                control=control)
        worker.downloadProgressed.connect(self._on_download_progress)
        worker.fitStarted.connect(self._on_fit_started)
        worker.batchesEnded.connect(self._on_batches)
        worker.epochEnded.connect(self._on_epoch)
        worker.probeScored.connect(self._on_probe)
        worker.fitFailed.connect(self._on_fit_failed)
        worker.fitEnded.connect(self._on_fit_ended)
        worker.succeeded.connect(self._on_training_succeeded)
        worker.failed.connect(self._on_training_failed)
        self._train = WorkerThread(worker, "lstm-desktop-training")
        self._train.thread.finished.connect(self._on_training_thread_finished)
        self._run_clock.start()
        self._fit_clock = PausableClock()
        self._clock.start()
        self._set_state(LOADING)
        self.set_status(f"{record.name}: loading {config.dataset}…")
        self._train.start()
        return record

    def pause_training(self) -> None:
        worker = self.training_worker
        if worker is None or self.state != TRAINING:
            return
        worker.pause()
        self._run_clock.pause()
        self._fit_clock.pause()
        self._set_state(PAUSED)
        self.set_status(f"{self._live.name if self._live else 'Training'}: paused")
        self.controls.set_message("Paused after the current batch. Resume to continue, Stop to keep "
                                  "the last finished epoch.")
        self._drain_batches()
        QTimer.singleShot(300, self, self._drain_batches)  # the batch that was running when Pause was pressed

    def resume_training(self) -> None:
        worker = self.training_worker
        if worker is None or self.state != PAUSED:
            return
        worker.resume()
        self._run_clock.resume()
        self._fit_clock.resume()
        self._set_state(TRAINING)
        self.controls.set_message("")
        self.set_status(f"{self._live.name if self._live else 'Training'}: training")

    def toggle_pause(self) -> None:
        if self.state == PAUSED:
            self.resume_training()
        else:
            self.pause_training()

    def stop_training(self) -> None:
        worker = self.training_worker
        if worker is None or self.state == STOPPING:
            return
        worker.stop()
        self._run_clock.pause()
        self._set_state(STOPPING)
        self.controls.set_message("Stopping after the current batch…")
        self.set_status("Stopping…")

    def _drain_batches(self) -> None:
        worker = self.training_worker
        if worker is not None:
            try:
                rows = worker.take_batches()
            except RuntimeError:
                return
            self._on_batches(rows)

    # --- worker signals (GUI thread)
    def _on_download_progress(self, file: str, done: float, total: float) -> None:
        self.data_banner.set_progress(file, done, total)
        self.set_status(f"Downloading {file}…")

    def _on_fit_started(self, info: dict) -> None:
        self._fit_info = info
        self._fit_clock.start()
        if self.plots is not None:
            self.plots.set_x_extent(float(info["epochs"]))
        if self.state == LOADING:
            self._set_state(TRAINING)
        if self.data_banner.progress.isVisible():
            self.data_banner.set_downloading(False)
            self.data_banner.hide()
        live = self._live
        if live is not None:
            live.device = info["device"]
        self.controls.set_progress(0, info["epochs"], 0, info["batches_per_epoch"])
        self.controls.set_message(f"{info['train_size']:,} training images, {info['val_size']:,} for validation, "
                                  f"{info['parameters']:,} parameters, on {info['device']}")
        self.set_status(f"{live.name if live else 'Training'}: training on {info['device']}")
        self._update_device_label()

    def _on_batches(self, rows: np.ndarray) -> None:
        if rows is None or not len(rows):
            return
        if self.plots is not None:
            self.plots.append_batches(rows[:, 0], rows[:, 1])
        self._last_row = rows[-1]

    def _update_progress(self) -> None:
        row, info = self._last_row, self._fit_info
        if row is None or not info:
            return
        epoch, batch, batches = int(row[5]), int(row[6]), int(row[7])
        epochs = int(info["epochs"])
        self.controls.set_progress(max(epoch, self._epochs_done), epochs, batch + 1, batches)
        done = (epoch * batches + batch + 1) / max(1, epochs * batches)
        fit_seconds = self._fit_clock.seconds()
        eta = fit_seconds * (1 - done) / done if done > 0 else None
        self.controls.set_stats(float(row[3]), self._run_clock.seconds(), eta, float(row[1]))

    def _tick(self) -> None:
        if self._train is None:
            self._clock.stop()
            return
        if self._last_row is not None:
            self._update_progress()
        else:
            self.controls.set_stats(None, self._run_clock.seconds(), None, None)

    def _on_epoch(self, info: dict) -> None:
        epoch = int(info["epoch"])
        self._epochs_done = epoch + 1
        if self.plots is not None:
            self.plots.append_epoch(epoch + 1, info["train_loss"], info["val_loss"], info["train_accuracy"],
                                    info["val_accuracy"])
        live = self._live
        if live is not None:
            h = live.history
            for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                        "samples_per_second"):
                h.setdefault(key, []).append(float(info[key]))
            h.setdefault("epoch", []).append(float(epoch + 1))
            live.epochs_completed = epoch + 1
            live.seconds = self._run_clock.seconds()
            self.runs_panel.update_run(live)
            self._update_comparison()
        self.controls.set_progress(epoch + 1, int(info["epochs"]), 0, int(self._fit_info.get("batches_per_epoch", 1)))
        val = f", validation accuracy {format_percent(info['val_accuracy'])}" if np.isfinite(info["val_accuracy"]) else ""
        self.controls.set_message(f"Epoch {epoch + 1}/{info['epochs']}: training loss {info['train_loss']:.4f}{val}")

    def _on_probe(self, epoch: int, probs: np.ndarray) -> None:
        if self.plots is not None:
            self.plots.append_probe(epoch + 1, probs)
        if self._live is not None:
            self._live.probe.append((float(epoch + 1), [float(p) for p in probs]))

    def _on_fit_failed(self, message: str, hint: str, kind: str) -> None:
        self.show_error(message, hint)
        if self._live is not None:
            self._live.status = "failed"
            self._live.message = message

    def _on_fit_ended(self, info: dict) -> None:
        live = self._live
        if live is not None:
            live.samples_per_second = info["train_samples_per_second"]
            live.epochs_completed = int(info["epochs_completed"])
            if live.status != "failed":
                live.status = "stopped" if info["stopped"] else "evaluating"
            self.runs_panel.update_run(live)
        if info["epochs_completed"]:
            self.controls.set_message("Scoring the test set…")

    def _on_training_succeeded(self, outcome) -> None:
        live = self._live
        if live is None:
            return
        fit = outcome.fit
        live.history = {k: list(v) for k, v in fit.history.items()}
        live.metrics = outcome.metrics
        live.checkpoint = outcome.checkpoint if fit.epochs_completed else None
        live.seconds = self._run_clock.seconds()
        live.samples_per_second = fit.train_samples_per_second
        live.device = fit.device
        live.epochs_completed = fit.epochs_completed
        live.dataset = outcome.data_name
        if outcome.test_predictions is not None:
            live.test_images = self._shared_test_images(live.config, outcome.test_images)
            live.test_labels = outcome.test_labels
            live.test_predictions = outcome.test_predictions
        if fit.failure is not None:
            live.status, live.message = "failed", fit.failure.message
        elif fit.stopped:
            live.status = "stopped"
        else:
            live.status = "finished"
        if not fit.epochs_completed:
            live.message = live.message or "no epoch finished, so there is no model"
        self.runs_panel.update_run(live)
        if live.checkpoint is not None:
            self._use_model(live.checkpoint, live.label)
        if self.runs_panel.current_number() == live.number:
            self._show_results(live)
        self._update_comparison()
        if live.metrics is not None and fit.failure is None:
            what = "stopped early" if fit.stopped else "finished"
            self.error_banner.show_message(
                f"{live.name} {what}: test accuracy {format_percent(live.metrics.accuracy)}, "
                f"macro F1 {live.metrics.f1:.4f} ({fit.epochs_completed} epoch{'s' if fit.epochs_completed != 1 else ''}, "
                f"{fit.train_samples_per_second:,.0f} samples/s).",
                "The Results tab has the per-class scores and the confusion matrix; File › Save model keeps it.",
                "success")

    def _on_training_failed(self, message: str, hint: str) -> None:
        live = self._live
        if live is not None:
            live.status, live.message = "failed", message
            self.runs_panel.update_run(live)
        if "MNIST" in message and self.data_banner.isVisible():
            self.data_banner.show_error(message, hint)
        self.show_error(message, hint)

    def _on_training_thread_finished(self) -> None:
        if self._train is not None:
            self._train.release()
            self._train = None
        self._clock.stop()
        live, self._live = self._live, None
        if live is not None:
            if live.status in ("training", "evaluating"):
                live.status = "stopped" if live.epochs_completed == 0 else "finished"
            self.runs_panel.update_run(live)
            self.controls.set_message(f"{live.name} {live.status}" + (f": {live.message}" if live.message else "."))
            self.set_status(f"{live.name} {live.status}")
        if self.plots is not None:
            self.plots.refresh()
        self._set_state(IDLE)
        self.check_data()
        if live is not None:
            self.trainingFinished.emit(live.number)
        self._maybe_finish_close()

    def _shared_test_images(self, config: TrainConfig | None, images: np.ndarray | None) -> np.ndarray | None:
        """Runs on the same test set share one array (MNIST's is 31 MB)."""
        if images is None:
            return None
        key = (config.dataset if config else "?", config.data_dir if config else None, images.shape)
        cached = self._test_cache.get(key)
        if cached is not None and np.array_equal(cached, images):
            return cached
        self._test_cache[key] = images
        return images

    # ================================================================== runs and results
    def runs(self) -> list[RunRecord]:
        return list(self.runs_panel.records.values())

    def _on_run_selected(self, number: int) -> None:
        rec = self.runs_panel.records.get(number)
        self._show_results(rec)
        if rec is None:
            return
        if self._train is None and self.plots is not None:
            self.plots.show_history(rec.history, rec.probe)
        if rec.checkpoint is not None and rec.checkpoint is not self.active_model and rec.status != "training":
            self._use_model(rec.checkpoint, rec.label)

    def _show_results(self, rec: RunRecord | None) -> None:
        if rec is None:
            self.metrics_view.clear("Train a model or open a checkpoint (Ctrl+O) to see its test-set results.")
            return
        title = f"{rec.name} — {rec.variant} on {rec.dataset or '?'}"
        if rec.status in ("training", "evaluating") and rec.metrics is None:
            self.metrics_view.set_result(title, None, status="Training… the test-set results appear when it ends.")
            return
        ckpt = rec.checkpoint
        mean, std = (ckpt.mean, ckpt.std) if ckpt is not None else (0.5, 0.5)
        status = rec.message
        if not status and rec.metrics is not None:
            status = f"{rec.metrics.samples:,} test images"
            if rec.source == "opened":
                status += " (scored now)" if rec.test_predictions is not None else " (as saved in the file)"
        self.metrics_view.set_result(title, rec.metrics, rec.test_images, rec.test_labels, rec.test_predictions,
                                     mean, std, status)

    def _update_comparison(self) -> None:
        if self.comparison is not None:
            self.comparison.set_runs(self.runs_panel.checked_runs())

    def remove_run(self, number: int) -> None:
        rec = self.runs_panel.records.get(number)
        if rec is None or rec.status == "training":
            return
        self.runs_panel.remove_run(number)

    def copy_command(self, number: int, torchrun: bool = False) -> str:
        from lstm_desktop.core.commands import torchrun_command, train_command

        rec = self.runs_panel.records.get(number)
        if rec is None or rec.config is None:
            return ""
        command = torchrun_command(rec.config) if torchrun else train_command(rec.config)
        QApplication.clipboard().setText(command)
        self.set_status(f"Copied: {command}")
        return command

    def _on_image_selected(self, image: np.ndarray, label: str) -> None:
        if self.inside_view is not None:
            try:
                self.inside_view.set_input(image, label)
            except Exception:
                log.exception("inside_view.set_input failed")
        self.set_status(f"{label} sent to 'Inside the LSTM' (double-click to go there)")

    def _on_image_open(self, image: np.ndarray, label: str) -> None:
        self._on_image_selected(image, label)
        self.tabs.setCurrentIndex(TAB_INSIDE)

    # ================================================================== files
    def _last_dir(self) -> str:
        return str(self.settings.value("files/last_dir", str(Path.home())))

    def _remember_dir(self, path: str | Path) -> None:
        self.settings.setValue("files/last_dir", str(Path(path).parent))

    def save_run(self, number: int | None = None, path: str | Path | None = None) -> Path | None:
        """Save a run's model (the selected run by default) with core.checkpoint.save_checkpoint."""
        rec = self.runs_panel.records.get(number) if number is not None else self.runs_panel.current()
        if rec is None:
            done = [r for r in self.runs() if r.checkpoint is not None and r.status != "training"]
            rec = done[-1] if done else None
        if rec is None or rec.checkpoint is None:
            self.show_error("There is no trained model to save yet.", "Train a model first, or open a checkpoint.",
                            "warning")
            return None
        if path is None:
            acc = f"-{rec.metrics.accuracy * 100:.1f}" if rec.metrics is not None else ""
            stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{rec.variant}-{rec.dataset}").strip("-").lower()
            suggestion = str(Path(self._last_dir()) / f"{stem}{acc}.pt")
            path, _ = QFileDialog.getSaveFileName(self, "Save model", suggestion, "lstm-desktop model (*.pt)")
            if not path:
                return None
        from lstm_desktop.core.checkpoint import save_checkpoint

        try:
            saved = save_checkpoint(path, rec.checkpoint)
        except OSError as exc:
            self.show_error(f"Could not save {path}: {exc.strerror or exc}.", "Choose another folder or file name.")
            return None
        rec.path = Path(saved)
        self._remember_dir(saved)
        self.runs_panel.update_run(rec)
        self.set_status(f"Saved {saved}")
        return Path(saved)

    def open_checkpoint(self, path: str | Path | None = None) -> RunRecord | None:
        """Open a saved model: list it as a run, use it in the pad, score it on its test set."""
        if not self.is_ready:
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", self._last_dir(),
                                                  "lstm-desktop model (*.pt);;All files (*)")
            if not path:
                return None
        from lstm_desktop.core.checkpoint import load_checkpoint
        from lstm_desktop.core.errors import CheckpointError

        try:
            ckpt = load_checkpoint(path)
        except CheckpointError as exc:
            self.show_error(exc.message, exc.hint)
            return None
        self._remember_dir(path)
        self._run_counter += 1
        info = ckpt.info or {}
        history = {k: list(v) for k, v in (ckpt.history or {}).items()}
        dataset = info.get("dataset") or (ckpt.config.dataset if ckpt.config else "")
        rec = RunRecord(self._run_counter, Path(path).name, ckpt.config, "opened", "opened", dataset=dataset,
                        history=history, metrics=ckpt.metrics, checkpoint=ckpt,
                        seconds=info.get("seconds"), samples_per_second=info.get("train_samples_per_second"),
                        device=str(info.get("device") or ""),
                        epochs_completed=int(info.get("epochs") or len(history.get("epoch") or [])),
                        path=Path(path))
        rec.message = "Scoring it on the test set…"
        self.runs_panel.add_run(rec)
        self._use_model(ckpt, rec.label)
        self.error_banner.hide()
        self.set_status(f"Opened {path}")
        self._evaluate(rec)
        return rec

    def _evaluate(self, rec: RunRecord) -> None:
        ckpt = rec.checkpoint
        model = copy.deepcopy(ckpt.model)  # the pad may use the original on the GUI thread meanwhile
        spec = ckpt.spec
        dataset = rec.dataset or ("digits" if spec.seq_len == 8 else "mnist")
        candidates = [ckpt.config.data_dir if ckpt.config else None, self.config_panel.values()["data_dir"], None]
        number = rec.number

        def task(control, progress):
            from lstm_desktop.core.data import load_bundle, missing_mnist_files, resolve_data_dir
            from lstm_desktop.core.engine import predict
            from lstm_desktop.core.errors import CheckpointError
            from lstm_desktop.core.metrics import compute_metrics

            started = time.perf_counter()
            data_dir = candidates[1]
            if dataset == "mnist":
                data_dir = next((d for d in candidates if not missing_mnist_files(resolve_data_dir(d))), candidates[1])
            data = load_bundle(dataset, data_dir, val_size=0)
            if data.seq_len != spec.seq_len or data.input_size != spec.input_size:
                raise CheckpointError(f"This model reads {spec.seq_len}x{spec.input_size} images but {dataset} has "
                                      f"{data.seq_len}x{data.input_size}.", "It cannot be scored on that test set.")
            probs = predict(model, data.test_x, control=control)
            if control.stop_requested or len(probs) < len(data.test_x):
                return None
            preds = probs.argmax(1).cpu().numpy()
            labels = data.test_y.cpu().numpy()
            return dict(number=number, metrics=compute_metrics(labels, preds, data.num_classes),
                        images=data.test_x.cpu().numpy(), labels=labels, predictions=preds,
                        seconds=time.perf_counter() - started, dataset=data.name)

        worker = TaskWorker(task, "evaluation")
        worker.succeeded.connect(self._on_evaluated)
        worker.failed.connect(lambda m, h, n=number: self._on_evaluation_failed(n, m, h))
        job = WorkerThread(worker, "lstm-desktop-evaluation")
        job.thread.finished.connect(lambda j=job, n=number: self._on_task_thread_finished(j, n))
        self._tasks.append(job)
        job.start()

    def _on_evaluated(self, result: dict | None) -> None:
        if not result:
            return
        rec = self.runs_panel.records.get(result["number"])
        if rec is None:
            return
        rec.metrics = result["metrics"]
        rec.test_images = self._shared_test_images(rec.config, result["images"])
        rec.test_labels = result["labels"]
        rec.test_predictions = result["predictions"]
        rec.dataset = result["dataset"]
        rec.message = ""
        self.runs_panel.update_run(rec)
        if self.runs_panel.current_number() == rec.number:
            self._show_results(rec)
        self.set_status(f"Scored {rec.name} on {result['labels'].shape[0]:,} test images in {result['seconds']:.1f} s")

    def _on_evaluation_failed(self, number: int, message: str, hint: str) -> None:
        rec = self.runs_panel.records.get(number)
        if rec is None:
            return
        rec.message = f"Not scored on the test set: {message} {hint}".strip()
        self.runs_panel.update_run(rec)
        if self.runs_panel.current_number() == number:
            self._show_results(rec)
        self.set_status(f"Could not score {rec.name}: {message}")

    def _on_task_thread_finished(self, job: WorkerThread, number: int) -> None:
        job.release()
        if job in self._tasks:
            self._tasks.remove(job)
        self.evaluationFinished.emit(number)
        self._maybe_finish_close()

    def export_curves(self, path: str | Path | None = None, kind: str | None = None) -> Path | None:
        """Write the curves on screen as CSV or PNG (chosen by `kind` or the file's extension)."""
        if self.plots is None:
            return None
        if path is None:
            filters = {"csv": "CSV (*.csv)", "png": "PNG image (*.png)"}
            order = [kind] if kind else ["csv", "png"]
            suggestion = str(Path(self._last_dir()) / f"curves.{order[0]}")
            path, chosen = QFileDialog.getSaveFileName(self, "Export curves", suggestion,
                                                       ";;".join(filters[k] for k in order))
            if not path:
                return None
            if not Path(path).suffix:
                path += ".png" if "png" in chosen.lower() else ".csv"
        path = Path(path)
        try:
            if path.suffix.lower() == ".png":
                self.plots.export_png(str(path))
            else:
                self.plots.export_csv(str(path))
        except OSError as exc:
            self.show_error(f"Could not write {path}: {getattr(exc, 'strerror', None) or exc}.",
                            "Choose another folder or file name.")
            return None
        self._remember_dir(path)
        self.set_status(f"Exported {path}")
        return path

    # ================================================================== settings
    def _save_config(self, config: TrainConfig) -> None:
        self.settings.setValue("train/config", config.to_json())

    def _restore_settings(self) -> None:
        raw = self.settings.value("train/config")
        config = TrainConfig()
        if raw:
            try:
                config = TrainConfig.from_dict(json.loads(str(raw)))
            except (ValueError, TypeError, ConfigError):
                log.warning("ignoring unreadable saved settings")
        self.config_panel.set_config(config)
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1320, 860)
        for key, splitter in (("window/train_splitter", self.train_splitter),
                              ("window/results_splitter", self.results_splitter)):
            state = self.settings.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
        try:
            self.tabs.setCurrentIndex(int(self.settings.value("window/tab", 0)))
        except (TypeError, ValueError):
            pass

    def save_settings(self) -> None:
        values = self.config_panel.values()
        try:
            self._save_config(TrainConfig(**values))
        except ConfigError:
            pass
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/train_splitter", self.train_splitter.saveState())
        self.settings.setValue("window/results_splitter", self.results_splitter.saveState())
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        if self.plots is not None:
            self.settings.setValue("plots/smoothing", self.plots.smoothing)
            self.settings.setValue("plots/log", "true" if self.plots.log_check.isChecked() else "false")
        self.settings.sync()

    # ================================================================== closing
    def _threads(self) -> list[WorkerThread]:
        return [t for t in (self._startup, self._train, self._download, *self._tasks) if t is not None]

    def running_threads(self) -> list[WorkerThread]:
        return [t for t in self._threads() if t.is_running()]

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt name
        busy = self.running_threads()
        if busy:
            # Ask every worker to stop, hide now, and close for real when the last thread has ended.
            self._close_pending = True
            for job in busy:
                job.stop()
            self.set_status("Stopping before closing…")
            self.save_settings()
            event.ignore()
            self.hide()
            return
        if not self._close_pending:
            self.save_settings()
        self._close_pending = False
        event.accept()
        self.closed.emit()

    def _maybe_finish_close(self) -> None:
        if self._close_pending and not self.running_threads():
            QTimer.singleShot(0, self, self.close)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop every background thread and wait for it (used when the application quits)."""
        ok = True
        for job in self._threads():
            job.stop()
        for job in self._threads():
            ok = job.wait(timeout_ms) and ok
        return ok

    def _about(self) -> None:
        from lstm_desktop import __version__

        QMessageBox.about(self, f"About {APP_TITLE}",
                          f"<b>{APP_TITLE}</b> {__version__}<p>Train, watch, explain and try LSTM digit "
                          "classifiers on your own machine.</p><p>The same training runs headless: "
                          "<code>lstm-desktop train --help</code>.</p>")
