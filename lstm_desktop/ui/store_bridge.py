"""Between the window's Runs model (core/runs.py) and the run store (core/store.py): open it,
load its runs, and pass on the edits. Every function accepts store=None (no store: runs live for
the session only) so the window works the same either way."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.runs import Run

log = logging.getLogger(__name__)


def open_store():
    """(store or None, a notice for the user or '')."""
    try:
        from lstm_desktop.core.store import open_store as open_run_store
    except ModuleNotFoundError:
        return None, ""
    try:
        store = open_run_store()
    except LstmDesktopError as exc:
        return None, f"{exc.message} Runs will not be kept this session."
    return store, getattr(store, "notice", "") or ""


def load_runs(store) -> list[Run]:
    return list(store.load_runs()) if store is not None and hasattr(store, "load_runs") else []


def load_curves(store, run: Run) -> None:
    if store is not None and hasattr(store, "fill_curves"):
        store.fill_curves(run)


def open_recording(store, config, runs):
    """The store's recording of a new window run; its Run is added to `runs` and kept up to date."""
    if store is None:
        return None
    from lstm_desktop.core.recorder import open_recording as record

    return record(config, source="window", store=store, runs=runs)


def add_opened(store, name: str | None, config, fields: dict[str, Any]) -> int | None:
    if store is None or not hasattr(store, "add_opened"):
        return None
    return store.add_opened(name, config, fields)


def absolute(store, path: str) -> Path:
    if store is not None:
        return store.absolute(path) or Path(path)
    return Path(path)


def rename(store, run_id: int, name: str) -> None:
    if store is not None:
        store.rename(run_id, name)


def annotate(store, run_id: int, notes: str, tags: tuple[str, ...]) -> None:
    if store is not None:
        store.set_notes(run_id, notes)
        store.set_tags(run_id, list(tags))


def trash(store, run_id: int) -> None:
    if store is not None:
        store.delete(run_id)
