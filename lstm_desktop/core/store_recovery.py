"""The run store's repairs: runs whose process died marked interrupted, a damaged database moved
aside and a fresh one started, and runs re-created from their folders' model.pt files.

Interrupted is decided by the run's OS lock (core/run_lock.py), never by guessing from PIDs; the
update is conditional on the run still being active, so a run finishing at that moment keeps its
own status. `store` is a core.store.RunStore (not imported here: that module imports this one).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from lstm_desktop.core.paths import RUNS_DIR
from lstm_desktop.core.run_lock import RunLock
from lstm_desktop.core.runs import RunStatus, now_iso
from lstm_desktop.core.store_schema import migrate

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running", "paused")
INTERRUPTED_MESSAGE = "Its process ended while it trained (killed, crashed or the machine stopped)."


def recover_interrupted(store: Any) -> list[int]:
    """Mark `interrupted` every active run no live process holds (its lock is free)."""
    marked = []
    ids = [r[0] for r in store._conn().execute(
        f"SELECT id FROM runs WHERE status IN ({', '.join('?' * len(ACTIVE))})", ACTIVE)]
    for run_id in ids:
        lock = RunLock(store.run_dir(run_id))
        if not lock.try_acquire():
            continue  # a live process trains it
        try:
            with store._write() as conn:  # conditional: its process may have just finished it
                cur = conn.execute(
                    f"UPDATE runs SET status = 'interrupted', ended = COALESCE(ended, ?), message = ? "
                    f"WHERE id = ? AND status IN ({', '.join('?' * len(ACTIVE))})",
                    (now_iso(), INTERRUPTED_MESSAGE, run_id, *ACTIVE))
                if cur.rowcount:
                    marked.append(run_id)
        finally:
            lock.release()
    return marked


def reindex_folders(store: Any) -> list[int]:
    """Re-create the runs of folders the database does not know, from their model.pt (after corruption)."""
    from lstm_desktop.core.checkpoint import load_checkpoint
    from lstm_desktop.core.errors import LstmDesktopError

    known = {r[0] for r in store._conn().execute("SELECT id FROM runs")}
    found = []
    for folder in sorted((store.home / RUNS_DIR).glob("*"), key=lambda p: (len(p.name), p.name)):
        if not folder.name.isdigit() or int(folder.name) in known or not (folder / "model.pt").is_file():
            continue
        try:
            ckpt = load_checkpoint(folder / "model.pt")
        except LstmDesktopError:
            continue
        info = ckpt.info or {}
        done = int(info.get("epochs") or len(ckpt.history.get("epoch") or []))
        status = RunStatus.FINISHED if ckpt.metrics is not None else RunStatus.INTERRUPTED
        run_id = int(folder.name)
        with store._write() as conn:
            conn.execute("INSERT INTO runs (id, name, source, status, created) VALUES (?, ?, 'cli', ?, ?)",
                         (run_id, f"Run {run_id}", status.value, str(info.get("saved_at") or now_iso())))
            store._set(conn, run_id, {
                "config": ckpt.config, "metrics": ckpt.metrics, "epochs_done": done,
                "dataset": str(info.get("dataset") or ""), "device": str(info.get("device") or ""),
                "checkpoint_path": folder / "model.pt", "history": ckpt.history,
                "message": "Recovered from its folder after the run store was rebuilt.",
                "variant": ckpt.config.variant_name if ckpt.config else ""})
        found.append(run_id)
    return found


def check(store: Any) -> None:
    """Migrate, then read the runs table and check its pages: raises sqlite3.DatabaseError when damaged."""
    conn = store._conn()
    migrate(conn)
    conn.execute("SELECT COUNT(*), MAX(id) FROM runs").fetchone()
    result = conn.execute("PRAGMA quick_check(runs)").fetchone()[0]
    if result != "ok":
        raise sqlite3.DatabaseError(f"quick_check: {result}")


def start_afresh(store: Any, exc: Exception) -> Any:
    """Move the damaged file (and its -wal/-shm) aside, start a fresh database, re-index run folders."""
    store.close()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = store.path.with_name(f"{store.path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{store.path}{suffix}")
        if src.exists():
            os.replace(src, Path(f"{aside}{suffix}"))
    log.warning("run store %s is damaged (%s); moved to %s", store.path, exc, aside)
    fresh = type(store)(store.home)
    check(fresh)
    recovered = reindex_folders(fresh)
    fresh.notice = (f"The run store was damaged and was moved aside to {aside.name}; a new one was started"
                    f"{f' and {len(recovered)} runs were recovered from their folders' if recovered else ''}.")
    return fresh
