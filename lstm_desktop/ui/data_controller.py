"""Whether the chosen dataset is on disk, and the MNIST download (on its own thread) when it is not.

The banner it drives says where it looked and offers the ways out that work in the window:
download, choose the folder, or switch to the offline digits; it never suggests a command-line flag.
Train with MNIST missing downloads first and trains only once the files are there: a failed
download is a message on the banner, never a failed run in the table.
"""

from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.widgets.banners import DataBanner
from lstm_desktop.ui.widgets.config_panel import ConfigPanel
from lstm_desktop.ui.worker import TaskWorker, WorkerThread


log = logging.getLogger(__name__)
NEEDS_MNIST = ("mnist", "pixel-mnist")


class DataController(QObject):
    downloadFinished = Signal(bool)  # True: the files are there

    def __init__(self, banner: DataBanner, config_panel: ConfigPanel, stop_training: Callable[[], None],
                 messages: Messages, is_ready: Callable[[], bool], closing: Callable[[], bool],
                 refresh_state: Callable[[], None], thread_ended: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.banner = banner
        self.config_panel = config_panel  # the dataset and data folder chosen
        self.stop_training = stop_training  # Cancel also stops a run that is loading its data
        self.messages = messages
        self.is_ready = is_ready  # start-up done: the data folder's default is known
        self.closing = closing  # the window is closing: nothing new starts
        self.refresh_state = refresh_state  # Train and Download enabled or not
        self.thread_ended = thread_ended  # the window may be waiting for the download's thread to close
        self.job: WorkerThread | None = None
        self._then: Callable[[], None] | None = None  # what runs once a download succeeds (Train)
        banner.downloadRequested.connect(self.download)
        banner.chooseFolderRequested.connect(config_panel.choose_data_dir)
        banner.useDigitsRequested.connect(lambda: config_panel.set_dataset("digits"))
        banner.cancelRequested.connect(self.cancel)

    def downloading(self) -> bool:
        return self.job is not None and self.job.is_running()

    def check(self) -> bool:
        """Show the banner when MNIST is needed but missing; True when training can load its data."""
        banner = self.banner
        if not self.is_ready() or self.downloading():
            return True
        values = self.config_panel.values()
        if values["dataset"] not in NEEDS_MNIST:
            if banner.kind in ("warning", "error"):
                banner.hide()
                if self.messages.status().startswith(("Download failed", "MNIST")):
                    self.messages.set_status("Ready")
            return True
        from lstm_desktop.core.data.image_sets import resolve_data_dir
        from lstm_desktop.core.data.mnist_files import missing_mnist_files, mnist_raw_dir

        root = resolve_data_dir(values["data_dir"])
        try:
            missing = missing_mnist_files(root)
        except (OSError, LstmDesktopError) as exc:  # an unreadable folder: say so, do not crash
            message = getattr(exc, "message", None) or f"Cannot read {root}: {getattr(exc, 'strerror', exc)}."
            banner.show_error(message, "Choose another folder (Choose folder…) or fix its permissions.")
            return False
        if missing:
            banner.show_missing(str(mnist_raw_dir(root)), missing)
            return False
        if banner.kind != "success":
            banner.hide()
        return True

    def ready_for(self, dataset: str, then: Callable[[], None]) -> bool:
        """True when `dataset` can load now; else download it first (`then` trains once it is there)."""
        if self.downloading():
            self.messages.show_error("MNIST is still downloading.", "Wait for it to finish, or cancel it.", "warning")
            return False
        if dataset in NEEDS_MNIST and not self.check():
            self.download(then, ", then training starts")
            return False
        return True

    def download(self, then: Callable[[], None] | None = None, note: str = "") -> None:
        """Fetch MNIST on its own thread; `then` runs on the GUI thread only if it succeeds."""
        if not self.is_ready() or self.job is not None:
            return
        self._then = then
        from lstm_desktop.core.data.image_sets import resolve_data_dir
        from lstm_desktop.core.data.mnist_files import download_mnist

        root = resolve_data_dir(self.config_panel.values()["data_dir"])

        def task(control, progress):
            def on_event(event):
                progress((event.file, float(event.done_bytes), float(event.total_bytes)))
            download_mnist(root, on_event, should_stop=lambda: control.stop_requested)
            return str(root)

        worker = TaskWorker(task, "download")
        worker.progressed.connect(self._on_progress)  # a bound slot: delivered on the GUI thread
        worker.succeeded.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        self.job = WorkerThread(worker, "lstm-desktop-download")
        self.job.thread.finished.connect(self._on_thread_finished)
        self.banner.set_downloading(True, f"into {root}{note}")
        self.refresh_state()
        self.job.start()

    def _on_progress(self, value) -> None:
        self.banner.set_progress(*value)

    def cancel(self) -> None:
        self._then = None
        if self.job is not None:
            self.job.stop()
        self.stop_training()

    def _on_done(self, root: str) -> None:
        banner = self.banner
        banner.set_downloading(False)
        banner.show_message(f"MNIST is ready in {root}.", "", "success")
        self.messages.notice("MNIST downloaded", state="Ready")
        QTimer.singleShot(4000, self, lambda: banner.kind == "success" and banner.hide())

    def _on_failed(self, message: str, hint: str) -> None:
        self._then = None
        self.banner.show_error(message, "Check the internet connection, choose a folder that holds "
                                      "MNIST/raw/ (Choose folder…), or train on the offline digits "
                                      "(Use offline digits).")
        self.messages.notice("Download failed", state="Ready")

    def _on_thread_finished(self) -> None:
        ok = self.banner.kind == "success"
        if self.job is not None:
            self.job.release()
            self.job = None
        if not ok and self.banner.kind != "error":
            self.check()
        self.refresh_state()
        then, self._then = self._then, None
        self.downloadFinished.emit(ok)
        if ok and then is not None and not self.closing():
            then()  # the thread has ended and been released: Train can start
        self.thread_ended()
