"""Whether the chosen dataset is on disk, and the MNIST download (on its own thread) when it is not.

The banner it drives says where it looked and offers the ways out that work in the window:
download, choose the folder, or switch to the offline digits; it never suggests a command-line flag.
Train with MNIST missing downloads first and trains only once the files are there: a failed
download is a message on the banner, never a failed run in the table.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow  # the main window (ui/main_window.py), typed loosely: no cycle

import logging
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.ui.worker import TaskWorker, WorkerThread


log = logging.getLogger(__name__)
NEEDS_MNIST = ("mnist", "pixel-mnist")


class DataController(QObject):
    downloadFinished = Signal(bool)  # True: the files are there

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.job: WorkerThread | None = None
        self._then: Callable[[], None] | None = None  # what runs once a download succeeds (Train)
        banner = window.data_banner
        banner.downloadRequested.connect(self.download)
        banner.chooseFolderRequested.connect(window.config_panel.choose_data_dir)
        banner.useDigitsRequested.connect(lambda: window.config_panel.set_dataset("digits"))
        banner.cancelRequested.connect(self.cancel)

    def downloading(self) -> bool:
        return self.job is not None and self.job.is_running()

    def check(self) -> bool:
        """Show the banner when MNIST is needed but missing; True when training can load its data."""
        w = self.w
        if not w.is_ready or self.downloading():
            return True
        values = w.config_panel.values()
        if values["dataset"] not in NEEDS_MNIST:
            if w.data_banner.kind in ("warning", "error"):
                w.data_banner.hide()
                if w.state_label.text().startswith(("Download failed", "MNIST")):
                    w.set_status("Ready")
            return True
        from lstm_desktop.core.data.image_sets import missing_mnist_files, mnist_raw_dir, resolve_data_dir

        root = resolve_data_dir(values["data_dir"])
        try:
            missing = missing_mnist_files(root)
        except (OSError, LstmDesktopError) as exc:  # an unreadable folder: say so, do not crash
            message = getattr(exc, "message", None) or f"Cannot read {root}: {getattr(exc, 'strerror', exc)}."
            w.data_banner.show_error(message, "Choose another folder (Choose folder…) or fix its permissions.")
            return False
        if missing:
            w.data_banner.show_missing(str(mnist_raw_dir(root)), missing)
            return False
        if w.data_banner.kind != "success":
            w.data_banner.hide()
        return True

    def ready_for(self, dataset: str, then: Callable[[], None]) -> bool:
        """True when `dataset` can load now; else download it first (`then` trains once it is there)."""
        if self.downloading():
            self.w.show_error("MNIST is still downloading.", "Wait for it to finish, or cancel it.", "warning")
            return False
        if dataset in NEEDS_MNIST and not self.check():
            self.download(then, ", then training starts")
            return False
        return True

    def download(self, then: Callable[[], None] | None = None, note: str = "") -> None:
        """Fetch MNIST on its own thread; `then` runs on the GUI thread only if it succeeds."""
        w = self.w
        if not w.is_ready or self.job is not None:
            return
        self._then = then
        from lstm_desktop.core.data.image_sets import download_mnist, resolve_data_dir

        root = resolve_data_dir(w.config_panel.values()["data_dir"])

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
        w.data_banner.set_downloading(True, f"into {root}{note}")
        w.refresh_state()
        self.job.start()

    def _on_progress(self, value) -> None:
        self.w.data_banner.set_progress(*value)

    def cancel(self) -> None:
        self._then = None
        if self.job is not None:
            self.job.stop()
        if self.w.training.is_training():
            self.w.stop_training()

    def _on_done(self, root: str) -> None:
        banner = self.w.data_banner
        banner.set_downloading(False)
        banner.show_message(f"MNIST is ready in {root}.", "", "success")
        self.w.set_status("MNIST downloaded")
        QTimer.singleShot(4000, self, lambda: banner.kind == "success" and banner.hide())

    def _on_failed(self, message: str, hint: str) -> None:
        self._then = None
        self.w.data_banner.show_error(message, "Check the internet connection, choose a folder that holds "
                                      "MNIST/raw/ (Choose folder…), or train on the offline digits "
                                      "(Use offline digits).")
        self.w.set_status("Download failed")

    def _on_thread_finished(self) -> None:
        ok = self.w.data_banner.kind == "success"
        if self.job is not None:
            self.job.release()
            self.job = None
        if not ok and self.w.data_banner.kind != "error":
            self.check()
        self.w.refresh_state()
        then, self._then = self._then, None
        self.downloadFinished.emit(ok)
        if ok and then is not None and not self.w._close_pending:
            then()  # the thread has ended and been released: Train can start
        self.w.maybe_finish_close()
