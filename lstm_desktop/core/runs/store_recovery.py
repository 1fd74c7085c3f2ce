"""The run store's repairs: runs whose process died marked interrupted, a damaged database moved
aside and a fresh one started, and runs re-created from their folders' model.pt files.

Interrupted is decided by the run's OS lock (core/runs/run_lock.py), never by guessing from PIDs; the
update is conditional on the run still being active, so a run finishing at that moment keeps its
own status. `store` is a core.store.RunStore (not imported here: that module imports this one).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from lstm_desktop.core.runs import store_curves
from lstm_desktop.core.runs import store_folder
from lstm_desktop.core.files.paths import RUNS_DIR
from lstm_desktop.core.runs.run_lock import RunLock
from lstm_desktop.core.runs.evented_runs import RunStatus, now_iso
from lstm_desktop.core.runs.store_schema import ROW_COLUMNS, migrate

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
            with store.without_waiting(), store._write() as conn:  # conditional: it may have just finished
                cur = conn.execute(
                    f"UPDATE runs SET status = 'interrupted', ended = COALESCE(ended, ?), message = ? "
                    f"WHERE id = ? AND status IN ({', '.join('?' * len(ACTIVE))})",
                    (now_iso(), INTERRUPTED_MESSAGE, run_id, *ACTIVE))
                if cur.rowcount:
                    marked.append(run_id)
                    store._pending()[0][run_id] = None  # its folder's run.json says so too
        except sqlite3.OperationalError as exc:  # another process holds the store: the next open does it
            log.info("run %s not marked interrupted yet: %s", run_id, exc)
        finally:
            lock.release()
    return marked


class Reindexed(NamedTuple):
    """What a rebuild from the run folders found: the runs rebuilt, and those whose folder was damaged."""
    runs: list[int]
    damaged: list[int]


def reindex_folders(store: Any) -> Reindexed:
    """Rebuild the runs of folders the database does not know: the row from run.json, the curves from
    curves.jsonl, and what either lacks from model.pt. A folder whose files are damaged becomes a
    run marked damaged with what could be read; it never stops the others."""
    known = {r[0] for r in store._conn().execute("SELECT id FROM runs")}
    found = Reindexed([], [])
    for folder in sorted((store.home / RUNS_DIR).glob("*"), key=lambda p: (len(p.name), p.name)):
        if folder.name.isdigit() and int(folder.name) not in known and folder.is_dir():
            try:
                done = _rebuild(store, folder)
            except (sqlite3.IntegrityError, OSError, ValueError, TypeError) as exc:
                log.warning("could not rebuild run folder %s: %s", folder, exc)
                continue
            if done is not None:
                found.runs.append(int(folder.name))
                if done:
                    found.damaged.append(int(folder.name))
    return found


def _rebuild(store: Any, folder: Path) -> bool | None:
    """Insert one folder's run; True when it was damaged, None when the folder holds no run."""
    from lstm_desktop.core.models.checkpoint import load_checkpoint
    from lstm_desktop.core.errors import LstmDesktopError

    run_id, problems, row, chunks, ckpt = int(folder.name), [], None, None, None
    try:
        row = store_folder.read_row(folder)
    except store_folder.FolderDamage as exc:
        problems.append(str(exc))
    try:
        chunks = store_folder.read_curves(folder)
    except store_folder.FolderDamage as exc:
        problems.append(str(exc))
    if (row is None or chunks is None) and (folder / "model.pt").is_file():
        try:
            ckpt = load_checkpoint(folder / "model.pt")
        except LstmDesktopError as exc:
            problems.append(f"model.pt: {exc.message}")
    if row is None and ckpt is None and not problems:
        return None  # a run whose creation never committed: nothing to rebuild
    with store._write(mirror=False) as conn:
        base = row or {}
        conn.execute("INSERT INTO runs (id, name, source, status, created) VALUES (?, ?, ?, ?, ?)",
                     (run_id, str(base.get("name") or f"Run {run_id}"), str(base.get("source") or "cli"),
                      str(base.get("status") or "interrupted"), str(base.get("created") or now_iso())))
        if row is not None:
            cols = [c for c in ROW_COLUMNS if c in row and c not in ("name", "source", "status", "created")]
            conn.execute(f"UPDATE runs SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                         (*(row[c] for c in cols), run_id))
        elif ckpt is not None:
            store._set(conn, run_id, _fields_from_model(ckpt, folder))
        if chunks is not None:
            for name, width, data in chunks:
                seq = conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM curves WHERE run_id = ? AND name = ?",
                                   (run_id, name)).fetchone()[0]
                conn.execute("INSERT INTO curves (run_id, name, seq, width, data) VALUES (?, ?, ?, ?, ?)",
                             (run_id, name, seq, width, np.asarray(data, dtype=np.float64).tobytes()))
        elif ckpt is not None:
            done = int((ckpt.info or {}).get("epochs") or len(ckpt.history.get("epoch") or []))
            store._append(conn, run_id, store_curves.from_history(ckpt.history, done))
        if problems:
            conn.execute("UPDATE runs SET status = 'damaged', message = ? WHERE id = ?",
                         (f"Its folder {RUNS_DIR}/{run_id} was damaged ({'; '.join(problems)}); what could be "
                          f"read was kept.", run_id))
    _rewrite_folder(store, folder, run_id, row is None, chunks is None)
    return bool(problems)


def _fields_from_model(ckpt: Any, folder: Path) -> dict[str, Any]:
    info = ckpt.info or {}
    return {"config": ckpt.config, "metrics": ckpt.metrics,
            "status": RunStatus.FINISHED if ckpt.metrics is not None else RunStatus.INTERRUPTED,
            "epochs_done": int(info.get("epochs") or len(ckpt.history.get("epoch") or [])),
            "created": str(info.get("saved_at") or now_iso()),
            "dataset": str(info.get("dataset") or ""), "device": str(info.get("device") or ""),
            "checkpoint_path": folder / "model.pt", "variant": ckpt.config.variant_name if ckpt.config else "",
            "message": "Rebuilt from its model file after the run store was damaged."}


def _rewrite_folder(store: Any, folder: Path, run_id: int, row: bool, curves: bool) -> None:
    """Give a rebuilt run's folder the files it lacked (a damaged one is kept as <name>.damaged)."""
    conn = store._conn()
    try:
        for wanted, name in ((row, store_folder.ROW_FILE), (curves, store_folder.CURVES_FILE)):
            if wanted and (folder / name).exists():
                os.replace(folder / name, folder / f"{name}.damaged")
        if row:
            store._mirror(conn, {run_id: None}, [])
        if curves:
            store_folder.replace_curves(folder, [
                (n, w, np.frombuffer(d, dtype=np.float64).tolist()) for n, w, d in conn.execute(
                    "SELECT name, width, data FROM curves WHERE run_id = ? ORDER BY name, seq", (run_id,))
                if len(d) % (8 * max(int(w), 1)) == 0])
    except OSError as exc:
        log.warning("could not rewrite the files of %s: %s", folder, exc)


OPEN_ATTEMPTS = 3  # tries of check() when SQLite answers busy at once


def check(store: Any) -> None:
    """Migrate, then read the runs table and check its pages: raises sqlite3.DatabaseError when damaged."""
    conn = store._conn()
    migrate(conn)
    conn.execute("SELECT COUNT(*), MAX(id) FROM runs").fetchone()
    result = conn.execute("PRAGMA quick_check(runs)").fetchone()[0]
    if result != "ok":
        raise sqlite3.DatabaseError(f"quick_check: {result}")


def _check_again_while_busy(store: Any, attempts: int = OPEN_ATTEMPTS) -> None:
    """check(), tried again when SQLite says busy: two processes opening a new store at once can get
    "database is locked" at once, without the busy timeout's wait (SQLite's answer to a lock
    deadlock), and the second try then finds the schema made."""
    for attempt in range(attempts):
        try:
            return check(store)
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if attempt + 1 == attempts or not ("locked" in text or "busy" in text):
                raise
            time.sleep(0.2 * (attempt + 1))


def open_checked(store: Any) -> Any:
    """The store checked; a damaged file is moved aside and rebuilt (start_afresh). A locked or
    unreadable file is a StoreError, never moved aside: it is not damaged."""
    from lstm_desktop.core.errors import StoreError

    try:
        _check_again_while_busy(store)
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise StoreError(f"The run store {store.path} stayed locked by another process.",
                             "Close other lstm-desktop windows or trainings, then try again.") from exc
        if any(w in text for w in ("unable to open", "readonly", "disk i/o", "permission", "full")):
            raise StoreError(f"Cannot open the run store {store.path}: {exc}.",
                             "Check the folder's permissions and free space, or set LSTM_DESKTOP_HOME.") from exc
        return start_afresh(store, exc)
    except sqlite3.DatabaseError as exc:
        return start_afresh(store, exc)
    return store


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
    found = reindex_folders(fresh)
    fresh.notice = repaired_notice(aside.name, found)
    return fresh


def repaired_notice(aside: str, found: Reindexed) -> str:
    """What the CLI and the window say once, in one line, after a rebuild."""
    n = len(found.runs)
    rebuilt = f"{n} run{'s were' if n != 1 else ' was'} rebuilt from their folders" if n else \
        "there were no run folders to rebuild from"
    damaged = ""
    if found.damaged:
        names = ", ".join(f"{RUNS_DIR}/{i}" for i in found.damaged[:5]) + (", ..." if len(found.damaged) > 5 else "")
        damaged = f" ({len(found.damaged)} damaged, marked so: {names})"
    return (f"The run store was damaged and has been repaired: the damaged file was moved aside to {aside} "
            f"and {rebuilt}{damaged}.")
