"""Between the window's Runs model (core/runs/evented_runs.py) and the run store (core/runs/store.py): open it, load
its runs, and pass on the edits.

The window always records through a store: its own (`paths.home_dir()`) or, when that cannot be
used (an unwritable folder, a store made by a newer version), a session store in a temporary
folder that is deleted at exit. A run is therefore turned into a Run by one thing only, the
recorder (core/runs/recorder.py), whether it is kept or not.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.core.runs.store import RunStore
from lstm_desktop.core.runs.store import open_store as open_run_store

log = logging.getLogger(__name__)


def session_store() -> RunStore:
    """A store for this session only (runs recorded as usual, forgotten at exit)."""
    home = Path(tempfile.mkdtemp(prefix="lstm-desktop-session-"))
    atexit.register(shutil.rmtree, home, True)
    store = open_run_store(home, recover=False)
    store.temporary = True  # type: ignore[attr-defined]
    return store


def is_temporary(store: RunStore) -> bool:
    return bool(getattr(store, "temporary", False))


def open_store() -> tuple[RunStore, str]:
    """(the window's store, a notice for the user or ''): a session store when the real one fails."""
    try:
        store = open_run_store()
    except LstmDesktopError as exc:
        return session_store(), f"{exc.message} Runs will not be kept this session."
    return store, getattr(store, "notice", "") or ""


def load_runs(store: RunStore) -> list[Run]:
    return store.load_runs()


def load_curves(store: RunStore, run: Run) -> None:
    store.fill_curves(run)


def open_recording(store: RunStore, config, runs: Runs, run_id: int | None = None):
    """The recording of a new window run; its Run is added to `runs` and kept up to date."""
    from lstm_desktop.core.runs.recorder import open_recording as record

    return record(config, source="window", store=store, runs=runs, run_id=run_id)


def add_opened(store: RunStore, name: str | None, config, fields: dict[str, Any]) -> int:
    return store.add_opened(name, config, fields)


def absolute(store: RunStore | None, path: str) -> Path:
    if store is not None:
        return store.absolute(path) or Path(path)
    return Path(path)


def rename(store: RunStore, run_id: int, name: str) -> None:
    store.rename(run_id, name)


def annotate(store: RunStore | None, run_id: int, notes: str, tags: tuple[str, ...]) -> None:
    if store is not None:  # the Results tab before the store is open
        store.set_notes(run_id, notes)
        store.set_tags(run_id, list(tags))


def trash(store: RunStore, run_id: int) -> None:
    store.delete(run_id)
