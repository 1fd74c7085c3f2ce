"""Thread-safe stop and pause/resume for a training loop that polls between batches.

A queued Qt signal would wait behind the running loop, so the UI sets these flags directly.
"""

from __future__ import annotations

import threading
import time


class TrainingControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> float:
        """Block while paused (waking on stop); returns the seconds spent paused."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        while not self._running.wait(0.1):
            pass
        return time.perf_counter() - start


class LatestValue:
    """The newest value one thread publishes and another reads (the pad's drawing, which the
    training thread re-scores after each epoch): a lock-guarded box, never a widget call."""

    def __init__(self, value=None) -> None:
        self._lock = threading.Lock()
        self._value = value

    def set(self, value) -> None:
        with self._lock:
            self._value = value

    def get(self):
        with self._lock:
            return self._value
