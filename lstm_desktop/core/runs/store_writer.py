"""A run's writes that never fail or stall its training while another process holds the run
store's write lock (a long `BEGIN EXCLUSIVE`, a backup tool, a second app busy for seconds).

A write is tried at once without waiting for the lock; when the store is busy it is queued, and
one background thread applies the queue in order, retrying for as long as the lock is held. The
training loop (and the window's GUI thread) therefore never waits on SQLite, and its checkpoints
and --out, which are files, never depend on the database. `flush` waits for the queue at the end
of a run, so the run is recorded once the lock is gone.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
import threading
import time
from typing import Any, Callable

log = logging.getLogger(__name__)

RETRY_S = 0.25  # between tries while the store stays locked (each try also waits the busy timeout)
FLUSH_WAIT_S = 1800.0  # the most a finished run waits at its end for a locked store to record it


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "busy": another connection holds the write lock."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


class StoreWriter:
    """Applies one run's writes to `store` in order: at once when the store is free, else queued."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._queue: collections.deque = collections.deque()  # the head stays until it is applied
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.waited = False  # the store was busy at least once during this run

    def write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Apply `fn(*args, **kwargs)` (a RunStore method) now if nothing is queued and the store is
        free; otherwise queue it behind the others. Never raises: a write that fails for another
        reason than the lock is logged and dropped (the run's files keep its model)."""
        with self._cond:
            if not self._queue:
                try:
                    with self.store.without_waiting():
                        fn(*args, **kwargs)
                    return
                except Exception as exc:  # noqa: BLE001 - a failed record must never stop a training
                    if not is_busy(exc):
                        _give_up(fn, exc)
                        return
            self.waited = True
            self._queue.append((fn, args, kwargs))
            self._start()
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def flush(self, timeout: float = FLUSH_WAIT_S) -> bool:
        """Wait until every queued write is applied; False when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 1.0))
        return True

    def close(self) -> None:
        """Stop the thread (after `flush`, or giving up what is still queued)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="run-store-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closed:
                        self._cond.wait()
                    if not self._queue or self._closed:
                        return
                    fn, args, kwargs = self._queue[0]
                try:
                    fn(*args, **kwargs)  # with the store's full busy timeout
                except Exception as exc:  # noqa: BLE001
                    if is_busy(exc):
                        time.sleep(RETRY_S)
                        continue
                    _give_up(fn, exc)
                with self._cond:
                    self._queue.popleft()
                    self._cond.notify_all()
        finally:
            self.store.close()  # this thread's own connection


def _give_up(fn: Callable[..., Any], exc: BaseException) -> None:
    log.warning("could not record a change in the run store (%s): %s", getattr(fn, "__name__", fn), exc)


def reserve_run(store: Any, writer: StoreWriter, take_lock: Callable[[int, Any], None], config: Any,
                source: str, name: str | None, status: Any, fields: dict[str, Any]) -> Any:
    """A new run while the store is locked: its id is taken by creating its folder (the store never
    hands out an id whose folder exists), its lock taken, and its row queued on `writer`."""
    from lstm_desktop.core.files.paths import RUNS_DIR
    from lstm_desktop.core.runs.evented_runs import FIELD_NAMES, Run, now_iso

    conn = store._conn()  # reads go on while another process holds the write lock (WAL)
    top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM runs").fetchone()[0]
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    folders = [int(p.name) for p in (store.home / RUNS_DIR).glob("*") if p.name.isdigit()]
    run_id = max([int(top), int(seq[0]) if seq else 0, *folders]) + 1
    while True:
        folder = store.run_dir(run_id)
        try:
            folder.mkdir(parents=False, exist_ok=False)
            break
        except FileExistsError:
            run_id += 1
    take_lock(run_id, folder)
    created = now_iso()
    writer.write(store.create_run, config, source=source, name=name, status=status, run_id=run_id,
                 created=created, **fields)
    known = {k: v for k, v in fields.items() if k in FIELD_NAMES}
    run = Run(run_id, name or f"Run {run_id}", status, config if not isinstance(config, dict) else None,
              source=source, created=created, **known)
    return run
