"""The open window hears of runs other processes add, change or trash in its run store.

A background thread asks SQLite every second whether anyone else committed (`PRAGMA data_version`,
a few microseconds: it only reads the WAL index); only then does it read the runs' rows, and it
hands the GUI thread just the rows that differ from the last read. So a `lstm-desktop train` in a
terminal shows up in the window's runs table within about a second, and a store another process
holds locked can slow this thread, never the window.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal

from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.core.runs.store import RunStore
from lstm_desktop.core.runs.store_read import run_from_row

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
# what another process may change in a run the window lists (curves are loaded when viewed)
SYNCED = ("name", "status", "dataset", "variant", "started", "ended", "seconds", "device", "torch_version",
          "host", "machine", "parameters", "epochs_done", "epochs_total", "samples_per_second", "notes", "tags",
          "checkpoint_path", "best_path", "message", "hint", "config", "metrics")


class RowReader:
    """The reading side, on the watcher's thread: its own store object (so its own connection),
    the last rows it saw."""

    def __init__(self, path: Path, known_ids: set[int]) -> None:
        self.path = Path(path)
        self.store: RunStore | None = None
        self.version: int | None = None
        self.rows: dict[int, tuple] | None = None
        self._initial_ids = known_ids

    def poll(self) -> tuple[list[Run], list[int], float] | None:
        """(runs added or changed, ids gone, when the read began: time.monotonic()) since the last
        poll, or None when nothing was committed."""
        read_at = time.monotonic()
        if self.store is None:
            self.store = RunStore(self.path.parent)  # the database is `runs.sqlite` in the home
        version = self.store.data_version()
        if version == self.version:
            return None
        self.version = version
        rows = self.store.listed_rows()
        if self.rows is None:  # first read: against the runs the window loaded
            changed = [rows[i] for i in rows if i not in self._initial_ids]
            gone = [i for i in self._initial_ids if i not in rows]
        else:
            changed = [row for i, row in rows.items() if self.rows.get(i) != row]
            gone = [i for i in self.rows if i not in rows]
        self.rows = rows
        if not changed and not gone:
            return None
        return [run_from_row(row) for row in changed], gone, read_at

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


class StoreWatch(QObject):
    """Keeps `runs` in step with the store. `skip(run_id, read_at)` is True for a run this window
    writes itself when the store may not yet hold what it shows (the run it records, until its
    queued writes are in): such a read is older than the window's run, so it never overwrites it."""

    changed = Signal(object, object, float)  # (runs added or changed, ids gone, read at): queued

    def __init__(self, path: Path, runs: Runs, skip: Callable[[int, float], bool] = lambda _i, _t: False,
                 parent: QObject | None = None, interval: float = POLL_SECONDS) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.runs = runs
        self.skip = skip
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.changed.connect(self.apply)

    def start(self) -> None:
        """Begin watching; the runs in `runs` now are taken as what the store held when it was read."""
        if self._thread is not None:
            return
        reader = RowReader(self.path, {run.id for run in self.runs})
        self._thread = threading.Thread(target=self._loop, args=(reader,), name="lstm-desktop-store-watch",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end (it does within a poll); the GUI never waits for it."""
        self._stop.set()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self, reader: RowReader) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    news = reader.poll()
                except sqlite3.Error as exc:  # locked for long, or the file went away: try again later
                    log.debug("run store watch: %s", exc)
                    continue
                if news is not None and not self._stop.is_set():
                    self.changed.emit(*news)
        except RuntimeError:  # the window (and this object) was deleted
            pass
        finally:
            reader.close()

    def apply(self, runs: list[Run], gone: list[int], read_at: float) -> None:
        """On the GUI thread: add new runs, update changed ones in place (the window's extras stay),
        remove trashed ones."""
        for stored in runs:
            if self.skip(stored.id, read_at):
                continue
            run = self.runs.get(stored.id)
            if run is None:
                self.runs.add(stored)
                continue
            fields = {name: getattr(stored, name) for name in SYNCED}
            names = self.runs.update(run, **fields)
            if {"epochs_done", "status"} & set(names) and not run.status.active:
                run.history, run.probe, run.gradient_flow = {}, [], []  # stale: read again when viewed
                self.runs.touch(run, "history")
        for run_id in gone:
            if run_id in self.runs and not self.skip(run_id, read_at):
                self.runs.remove(run_id)
