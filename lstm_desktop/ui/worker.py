"""Background work on QThreads, with Qt's worker-object pattern.

A worker is a QObject with no parent, moved to its own QThread: `thread.started -> worker.run`,
`worker.finished -> thread.quit`; the thread is deleted with deleteLater, the worker is handed back
to the GUI thread and freed there (see WorkerThread). The core runs inside
`run()`; its events become Qt signals carrying plain numbers and small numpy arrays, delivered to
the GUI thread by queued connections. Stop and pause go through TrainingControl's thread-safe flags,
called directly from the GUI thread: a queued signal would wait behind the running loop.

Batch events are not sent one by one: the worker buffers them and emits `batchesEnded` with an
(n, 8) array at most every EMIT_INTERVAL seconds, and before any epoch-level event.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.errors import LstmDesktopError

log = logging.getLogger(__name__)

EMIT_INTERVAL = 0.1  # seconds between batch chunks (the plots redraw at 10 Hz anyway)
BATCH_COLUMNS = ("progress", "loss", "accuracy", "samples_per_second", "lr", "epoch", "batch", "batches")


def unexpected_error_text(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, MemoryError):
        return ("The computer ran out of memory.", "Lower the batch size or hidden size, or close other programs.")
    return (f"Unexpected error: {type(exc).__name__}: {exc}",
            "This is a bug in lstm-desktop; the details were written to the log. Try again with other "
            "settings, and please report it.")


def batch_events(rows: np.ndarray):
    """The BatchEnded events a chunk of BATCH_COLUMNS rows stands for."""
    from lstm_desktop.core.training.events import BatchEnded

    for r in rows:
        yield BatchEnded(int(r[5]), int(r[6]), int(r[7]), float(r[1]), float(r[2]), float(r[3]), float(r[4]))


class TrainingWorker(QObject):
    """Runs core.session.run_training once, on a QThread, and forwards its events to the GUI thread.

    Every event but BatchEnded is forwarded as it is (`eventReached`: the core's frozen dataclasses
    of plain numbers are safe to send across threads); batches are buffered and sent as (n, 8) arrays
    (`batchesEnded`, columns BATCH_COLUMNS) at most every EMIT_INTERVAL seconds and before any other
    event, so order is kept. The GUI thread's observers are ordinary core Callbacks.
    """

    eventReached = Signal(object)    # a core event (not BatchEnded)
    batchesEnded = Signal(object)    # np.ndarray (n, 8) float64
    succeeded = Signal(object)       # core.session.TrainingOutcome (its model is on the CPU)
    failed = Signal(str, str)        # message, hint: the run raised
    finished = Signal()

    def __init__(self, config: TrainConfig, probe: Callable[[], np.ndarray | None] | None = None,
                 download: bool = False, emit_interval: float = EMIT_INTERVAL,
                 callbacks: Sequence[Any] = (), control: TrainingControl | None = None,
                 run_dir: str | None = None) -> None:
        """callbacks: extra core callbacks, called on the worker thread (logging, benchmarks)."""
        super().__init__()  # no parent: it is moved to its thread
        self.config = config
        self.control = control or TrainingControl()
        self._extra_callbacks = list(callbacks)
        self.download = download
        self.run_dir = run_dir
        self._probe = probe
        self._emit_interval = emit_interval
        self._lock = threading.Lock()
        self._rows: list[tuple[float, ...]] = []
        self._last_emit = 0.0

    # ---- called from the GUI thread (thread-safe) ---------------------------------------------
    def stop(self) -> None:
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def take_batches(self) -> np.ndarray:
        """Remove and return the buffered batch rows (n, 8); used by flush and on pause."""
        with self._lock:
            rows, self._rows = self._rows, []
        return np.asarray(rows, dtype=np.float64).reshape(-1, len(BATCH_COLUMNS))

    # ---- the worker thread --------------------------------------------------------------------
    def _flush(self) -> None:
        rows = self.take_batches()
        self._last_emit = time.perf_counter()
        if len(rows):
            self.batchesEnded.emit(rows)

    def _probe_input(self) -> np.ndarray | None:
        if self._probe is None:
            return None
        try:
            return self._probe()
        except Exception:  # the pad must never break a training run
            log.exception("probe failed")
            return None

    def on_event(self, event: Any) -> None:
        """The core callback (runs on the worker thread)."""
        if event.HOOK == "on_batch_end":
            row = (event.progress, event.loss, event.accuracy, event.samples_per_second, event.lr,
                   float(event.epoch), float(event.batch), float(event.batches))
            with self._lock:
                self._rows.append(row)
            if time.perf_counter() - self._last_emit >= self._emit_interval:
                self._flush()
            return
        self._flush()
        self.eventReached.emit(event)

    @Slot()
    def run(self) -> None:
        try:
            from lstm_desktop.core.training.session import run_training

            outcome = run_training(self.config, callbacks=[self.on_event, *self._extra_callbacks],
                                   control=self.control, download=self.download, probe=self._probe_input,
                                   run_dir=self.run_dir)
            self._flush()
            self.succeeded.emit(outcome)
        except LstmDesktopError as exc:
            self._flush()
            self.failed.emit(exc.message, exc.hint)
        except BaseException as exc:  # noqa: BLE001 - the thread must end cleanly whatever happens
            log.error("training failed:\n%s", traceback.format_exc())
            self._flush()
            self.failed.emit(*unexpected_error_text(exc))
        finally:
            hand_back_to_gui_thread(self)
            self.finished.emit()


class GuiRelay(QObject):
    """Calls fn(*args) on the thread this relay lives in (the GUI thread, where it is created).

    Why: a lambda connected to a worker's signal has the worker as its context, so it runs on the
    worker's thread, where touching a widget crashes (font engines are not thread-safe). Connect
    the worker's signal to `relay.call` instead, a slot of a GUI-thread object: Qt queues it.
    """

    def __init__(self, fn: Callable[..., Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fn = fn

    @Slot(str, str)
    def call(self, *args: Any) -> None:
        self.fn(*args)


def hand_back_to_gui_thread(worker: QObject) -> None:
    """Move a finished worker to the GUI thread, so that it is destroyed there, not in its own.

    A PySide QObject destroyed on a worker thread (deleteLater) holds Qt's connection lock while
    it waits for the GIL; the GUI thread, holding the GIL, can meanwhile wait for that same lock in
    a connect(): a deadlock, seen as a hung test run. Freed by Python on the GUI thread, it cannot.
    """
    app = QCoreApplication.instance()
    if app is not None:
        worker.moveToThread(app.thread())


class TaskWorker(QObject):
    """Runs fn(control, progress) once on a thread: for evaluation, downloads, start-up loading.

    fn receives a TrainingControl (poll `stop_requested`) and `progress(object)`, which emits
    `progressed` with whatever plain value it is given.
    """

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)
    finished = Signal()

    def __init__(self, fn: Callable[[TrainingControl, Callable[[Any], None]], Any], name: str = "task") -> None:
        super().__init__()
        self.fn = fn
        self.name = name
        self.control = TrainingControl()

    def stop(self) -> None:
        self.control.stop()

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn(self.control, self.progressed.emit)
            self.succeeded.emit(result)
        except LstmDesktopError as exc:
            self.failed.emit(exc.message, exc.hint)
        except BaseException as exc:  # noqa: BLE001
            log.error("%s failed:\n%s", self.name, traceback.format_exc())
            self.failed.emit(*unexpected_error_text(exc))
        finally:
            hand_back_to_gui_thread(self)
            self.finished.emit()


class WorkerThread:
    """One worker object on its own QThread, wired as Qt's documentation recommends.

    Keep the WorkerThread referenced until `thread.finished` has been handled (then call
    `release()`): dropping a running QThread aborts the process.
    """

    def __init__(self, worker: QObject, name: str) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        self.name = name
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # Direct: QThread.quit is thread-safe, and a queued call would never run once the GUI
        # thread's event loop has ended (QApplication.quit during training): the thread would
        # never stop and the process would abort when it is destroyed.
        worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self.thread.deleteLater)  # the worker: see hand_back_to_gui_thread

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        try:
            return self.thread.isRunning()
        except RuntimeError:  # already deleted: it finished
            return False

    def stop(self) -> None:
        stop = getattr(self.worker, "stop", None)
        if stop is not None:
            try:
                stop()
            except RuntimeError:
                pass

    def wait(self, ms: int = 30_000) -> bool:
        try:
            return self.thread.wait(ms)
        except RuntimeError:
            return True

    def release(self) -> None:
        """After `finished`: make sure the thread has really ended, then drop the references."""
        self.wait()
        self.worker = None  # type: ignore[assignment]
        self.thread = None  # type: ignore[assignment]


def preload(control: TrainingControl, progress: Callable[[Any], None]) -> dict:
    """Start-up work off the GUI thread: import torch and the plotting library, find the devices,
    read the shipped model. Returns plain values plus the shipped Checkpoint (or the reason it is
    missing)."""
    started = time.perf_counter()
    import pyqtgraph  # noqa: F401 - imported here so the GUI thread finds it loaded

    from lstm_desktop.core.models import checkpoint
    from lstm_desktop.core.data import image_sets as data
    from lstm_desktop.core.training import devices
    from lstm_desktop.core.training import engine
    from lstm_desktop.core.training import session  # noqa: F401
    from lstm_desktop.core.errors import CheckpointError
    from lstm_desktop.core.files.resources import shipped_model_path

    progress("torch")
    from lstm_desktop.core.training.metrics import load_metric_functions

    load_metric_functions()  # else the first run's final report imports scikit-learn mid-run
    found = [(d.id, d.label) for d in devices.available_devices()]
    shipped, shipped_error = None, ""
    path = shipped_model_path()
    try:
        shipped = checkpoint.load_checkpoint(path)
    except CheckpointError as exc:
        shipped_error = exc.message
    return dict(devices=found, shipped=shipped, shipped_error=shipped_error, shipped_path=str(path),
                default_data_dir=str(data.resolve_data_dir(None)), seconds=time.perf_counter() - started)
