"""Start, pause, stop and shut down the training run: its worker, its thread, its clocks.

The controller runs core.session.run_training in a TrainingWorker on a QThread and delivers the
core's events, on the GUI thread, to its observers: ordinary core Callbacks (the live plots and
progress, the run recorder). It never edits a widget itself. Stop and pause set the worker's
thread-safe flags directly (a queued signal would wait behind the running loop).

Quitting the event loop while training (QApplication.quit from a logout or a script) must not
abort the process: `shutdown` stops the worker and waits for its thread, and the window calls it
from `QCoreApplication.aboutToQuit` as well as on close.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Signal

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.training.events import Callback, dispatch
from lstm_desktop.ui.worker import TrainingWorker, WorkerThread, batch_events

log = logging.getLogger(__name__)

IDLE, LOADING, TRAINING, PAUSED, STOPPING = "idle", "loading", "training", "paused", "stopping"


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


class BatchObserver(Callback):
    """A GUI-side observer that takes the worker's batch chunks whole (plots): by default each row
    is delivered as a BatchEnded event."""

    def on_batches(self, rows: np.ndarray) -> None:
        for event in batch_events(rows):
            self.on_batch_end(event)


class TrainingController(QObject):
    stateChanged = Signal(str)
    runStarted = Signal(object)    # the TrainConfig
    outcomeReady = Signal(object)  # core.session.TrainingOutcome
    runFailed = Signal(str, str)   # the run raised (data missing, ...): message, hint
    runFinished = Signal()         # its thread has ended

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = IDLE
        self.observers: list[Callback] = []
        self.run_clock = PausableClock()
        self.fit_clock = PausableClock()
        self._job: WorkerThread | None = None
        self._shutting_down = False

    # ---- queries ------------------------------------------------------------------------------
    @property
    def worker(self) -> TrainingWorker | None:
        return self._job.worker if self._job is not None else None  # type: ignore[return-value]

    def is_training(self) -> bool:
        return self._job is not None

    # ---- actions ------------------------------------------------------------------------------
    def start(self, config: TrainConfig, observers: list[Callback], probe: Callable[[], Any] | None = None,
              download: bool = False, callbacks=(), control: TrainingControl | None = None,
              run_dir: str | None = None) -> bool:
        """Train `config`; observers get its events on the GUI thread. False if already training."""
        if self._job is not None or self._shutting_down:
            return False
        self.observers = list(observers)
        worker = TrainingWorker(config, probe=probe, download=download, callbacks=callbacks, control=control,
                                run_dir=run_dir)
        worker.eventReached.connect(self._on_event)
        worker.batchesEnded.connect(self._on_batches)
        worker.succeeded.connect(self.outcomeReady)
        worker.failed.connect(self.runFailed)
        self._job = WorkerThread(worker, "lstm-desktop-training")
        self._job.thread.finished.connect(self._on_thread_finished)
        self.run_clock.start()
        self.fit_clock = PausableClock()
        self._set_state(LOADING)
        self.runStarted.emit(config)
        self._job.start()
        return True

    def pause(self) -> bool:
        if self.worker is None or self.state != TRAINING:
            return False
        self.worker.pause()
        self.run_clock.pause()
        self.fit_clock.pause()
        self._set_state(PAUSED)
        return True

    def resume(self) -> bool:
        if self.worker is None or self.state != PAUSED:
            return False
        self.worker.resume()
        self.run_clock.resume()
        self.fit_clock.resume()
        self._set_state(TRAINING)
        return True

    def stop(self) -> bool:
        if self.worker is None or self.state == STOPPING:
            return False
        self.worker.stop()
        self.run_clock.pause()
        self._set_state(STOPPING)
        return True

    def drain(self) -> None:
        """Deliver the batches the worker has buffered (on pause, the batch that was running)."""
        if self.worker is not None:
            try:
                rows = self.worker.take_batches()
            except RuntimeError:
                return
            self._on_batches(rows)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run and wait for its thread (quit, logout, window closed)."""
        self._shutting_down = True
        if self._job is None:
            return True
        self._job.stop()
        ok = self._job.wait(timeout_ms)
        # The run's last events (its final epoch, its end) are queued for this thread; when the
        # event loop has already ended (QApplication.quit) they would be lost: deliver them now, so
        # the run is recorded as it ended, with its last finished epoch.
        QCoreApplication.sendPostedEvents()
        return ok

    # ---- worker signals (GUI thread) ----------------------------------------------------------
    def _on_event(self, event) -> None:
        if event.HOOK == "on_fit_start":
            self.fit_clock.start()
            if self.state == LOADING:
                self._set_state(TRAINING)
        for observer in self.observers:  # one observer's bug must not starve the others (the recorder)
            try:
                dispatch((observer,), event)
            except Exception:
                log.exception("%s failed on %s", type(observer).__name__, type(event).__name__)

    def _on_batches(self, rows: np.ndarray) -> None:
        if rows is None or not len(rows):
            return
        for observer in self.observers:
            try:
                if isinstance(observer, BatchObserver):
                    observer.on_batches(rows)
                else:
                    for event in batch_events(rows):
                        observer.on_batch_end(event)
            except Exception:
                log.exception("observer failed on batches")

    def _on_thread_finished(self) -> None:
        if self._job is not None:
            self._job.release()
            self._job = None
        self._set_state(IDLE)
        self.runFinished.emit()

    def _set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)
