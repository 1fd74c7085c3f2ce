"""The run store: every run (window, `lstm-desktop train`, torchrun) in one local SQLite database.

The database (`runs.sqlite`, WAL mode, 10 s busy timeout) lives in the home folder (core/files/paths.py)
beside `runs/<id>/`, each run's own files. Every write is one short `BEGIN IMMEDIATE` transaction,
so a crash or `kill -9` at any moment leaves the database consistent, and two app instances and a
CLI training can write at once. A training process holds an OS lock on `runs/<id>/run.lock` for
the run's life: opening the store marks every still-active run whose lock it can take as
`interrupted` (its checkpoint is the last finished epoch's model.pt). Curves are float64 BLOBs in
their own table, appended per epoch, so listing runs never reads them (store_curves.py).

After each commit the changed runs are mirrored into their folders (`run.json`, `curves.jsonl`:
store_folder.py), so a lost or damaged database is rebuilt from them with every run. A training
writes through store_writer.py, which queues its writes while another process holds the lock.
Repairs (interrupted runs, a damaged file) are in store_recovery.py, the schema and its
migrations in store_schema.py, names, notes, tags and the trash in store_edit.py, the reads (runs,
curves, what a watcher polls) in store_read.py: nothing outside these modules touches the connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from lstm_desktop.core.runs import store_curves
from lstm_desktop.core.runs import store_folder
from lstm_desktop.core.runs import store_recovery
from lstm_desktop.core.errors import StoreError
from lstm_desktop.core.files.paths import RUNS_DIR, db_path, home_dir
from lstm_desktop.core.runs.evented_runs import Run, RunStatus, now_iso
from lstm_desktop.core.runs.store_schema import EDITABLE
from lstm_desktop.core.runs.store_edit import RunEditing
from lstm_desktop.core.runs.store_read import RunReading

BUSY_TIMEOUT_S = 10.0
GRID_CURVES = store_curves.GRID_CURVES


class RunStore(RunReading, RunEditing):
    """One store (a home folder). Connections are per thread; every method is a short transaction."""

    def __init__(self, home: Path, notice: str = "") -> None:
        self.home = Path(home).absolute()
        self.path = db_path(self.home)
        self.notice = notice  # said once to the user: e.g. a corrupt database was moved aside
        self._local = threading.local()

    # ---- connections and transactions ---------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self, mirror: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; after it commits, the runs it changed are mirrored into their
        folders (store_folder.py), so a lost database can be rebuilt from them."""
        conn = self._conn()
        self._local.pending = pending = ({}, [])  # run ids whose row changed; (run id, curve chunk)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise
        finally:
            self._local.pending = None
        conn.execute("COMMIT")
        if mirror:
            self._mirror(conn, *pending)

    def _mirror(self, conn: sqlite3.Connection, rows: dict[int, None], curves: list) -> None:
        store_folder.mirror(conn, self.run_dir, rows, curves)

    def _pending(self) -> tuple[dict[int, None], list] | None:
        return getattr(self._local, "pending", None)

    @contextmanager
    def without_waiting(self) -> Iterator[None]:
        """This thread's writes fail at once ("database is locked") instead of waiting for the lock."""
        conn = self._conn()
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- paths ---------------------------------------------------------------------------------
    def run_dir(self, run_id: int) -> Path:
        return self.home / RUNS_DIR / str(int(run_id))

    def absolute(self, path: str | os.PathLike[str] | None) -> Path | None:
        """A stored path as a usable one (stored paths inside the home are relative to it)."""
        if not path:
            return None
        p = Path(path)
        return p if p.is_absolute() else self.home / p

    def relative(self, path: str | os.PathLike[str] | None) -> str:
        """How a path is stored: relative to the home when inside it, so the home can move.
        A relative path is taken as already stored (relative to the home)."""
        if not path:
            return ""
        p = Path(path)
        if not p.is_absolute():
            return p.as_posix()
        try:
            return p.relative_to(self.home).as_posix()
        except ValueError:
            return str(p)

    # ---- creating and updating -----------------------------------------------------------------
    def create_run(self, config: Any = None, source: str = "cli", name: str | None = None,
                   status: str | RunStatus = RunStatus.RUNNING,
                   before_commit: Callable[[int, Path], None] | None = None, run_id: int | None = None,
                   **fields: Any) -> Run:
        """Insert a run and make its folder; `before_commit(id, folder)` runs inside the transaction
        (the recorder takes the run's lock there, so no other process ever sees it active and unlocked).
        `run_id`: an id whose folder the caller already made (store_writer.reserve_run)."""
        created = fields.pop("created", None) or now_iso()
        for _ in range(1000):
            try:
                return self._create(config, source, name, status, before_commit, run_id, created, fields)
            except FileExistsError:  # another process took this id's folder a moment ago: next id
                continue
        raise StoreError("Could not find a free run id in the run store.", "Try again.")

    def _create(self, config: Any, source: str, name: str | None, status: Any, before_commit: Any,
                run_id: int | None, created: str, fields: dict[str, Any]) -> Run:
        with self._write() as conn:
            if run_id is None:
                self._skip_ids_of_existing_folders(conn)
            cur = conn.execute("INSERT INTO runs (id, name, source, status, created) VALUES (?, '', ?, ?, ?)",
                               (run_id, source, RunStatus(status).value, created))
            new_id = int(cur.lastrowid)
            values = {"name": name or f"Run {new_id}", **fields}
            if config is not None:
                values["config"] = config
                for key, attr in (("dataset", "dataset"), ("variant", "variant_name"), ("epochs_total", "epochs")):
                    if not values.get(key):
                        value = config.get(attr) if isinstance(config, dict) else getattr(config, attr, None)
                        if value is not None:
                            values[key] = value
            self._set(conn, new_id, values)
            folder = self.run_dir(new_id)
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(exist_ok=run_id is not None)
            if before_commit is not None:
                before_commit(new_id, folder)
        return self.get_run(new_id)

    def _skip_ids_of_existing_folders(self, conn: sqlite3.Connection) -> None:
        """Never hand out an id whose folder exists (a store started afresh after corruption). The
        folder list is read only when the next id's folder exists: listing it on every insert made
        filling a store quadratic (23 ms a run at 10,000 runs)."""
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
        if not (self.home / RUNS_DIR / str((row[0] if row else 0) + 1)).exists():
            return
        ids = [int(p.name) for p in (self.home / RUNS_DIR).glob("*") if p.name.isdigit()]
        top = max(ids)
        if row is None:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", (top,))
        elif row[0] < top:
            conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'runs'", (top,))

    def update(self, run_id: int, **fields: Any) -> None:
        """Set columns of one run (Run field names) in one transaction."""
        with self._write() as conn:
            self._set(conn, run_id, fields)

    def _set(self, conn: sqlite3.Connection, run_id: int, fields: dict[str, Any]) -> None:
        curves = {k: fields.pop(k) for k in ("history", "probe", "gradient_flow") if k in fields}
        fields.pop("extra", None)
        row = {k: self._encode(k, v) for k, v in fields.items()}
        if "metrics" in fields:
            m = fields["metrics"]
            row["accuracy"] = m.accuracy if m is not None and not isinstance(m, dict) else \
                (m or {}).get("accuracy")
        bad = set(row) - EDITABLE
        if bad:
            raise KeyError(f"not run store columns: {', '.join(sorted(bad))}")
        if row:
            cols = ", ".join(f"{k} = ?" for k in row)
            conn.execute(f"UPDATE runs SET {cols} WHERE id = ?", (*row.values(), int(run_id)))
            pending = self._pending()
            if pending is not None:
                pending[0][int(run_id)] = None
        if curves:
            chunk = dict(curves.pop("history", None) or {})
            chunk.update(curves)
            self._append(conn, run_id, chunk)

    def _encode(self, name: str, value: Any) -> Any:
        if name == "config":
            return None if value is None else json.dumps(value if isinstance(value, dict) else value.to_dict(),
                                                         sort_keys=True)
        if name == "metrics":
            return None if value is None else json.dumps(value if isinstance(value, dict) else value.to_dict())
        if name in ("tags",):
            return json.dumps([str(t) for t in (value or ())])
        if name == "info":
            return json.dumps(value or {})
        if name == "status":
            return RunStatus(value).value
        if name in ("checkpoint_path", "best_path"):
            return self.relative(value)
        return value

    def append_curves(self, run_id: int, chunk: dict[str, Any], **fields: Any) -> None:
        """Append points to curves (and set fields) in one transaction: one epoch's worth, say.

        chunk: {"batch_loss": [...], "val_loss": [...], "probe": [(x, [p0..p9]), ...], ...}
        """
        with self._write() as conn:
            self._append(conn, run_id, chunk)
            if fields:
                self._set(conn, run_id, fields)

    def _append(self, conn: sqlite3.Connection, run_id: int, chunk: dict[str, Any]) -> None:
        pending = self._pending()
        for name, width, data in store_curves.encode(chunk):
            seq = conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM curves WHERE run_id = ? AND name = ?",
                               (int(run_id), name)).fetchone()[0]
            conn.execute("INSERT INTO curves (run_id, name, seq, width, data) VALUES (?, ?, ?, ?, ?)",
                         (int(run_id), name, seq, width, data.tobytes()))
            if pending is not None:
                pending[1].append((int(run_id), (name, width, data)))

    # ---- recovery ------------------------------------------------------------------------------
    def recover_interrupted(self) -> list[int]:
        """Mark `interrupted` every active run no live process holds (its lock is free)."""
        return store_recovery.recover_interrupted(self)

    def reindex_folders(self) -> store_recovery.Reindexed:
        """Rebuild the runs the database lacks from their folders (after corruption)."""
        return store_recovery.reindex_folders(self)

    def integrity_check(self) -> str:
        """SQLite's full check: 'ok' when the file is sound."""
        return str(self._conn().execute("PRAGMA integrity_check").fetchone()[0])


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, with a busy timeout."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def open_store(home: str | os.PathLike[str] | None = None, recover: bool = True) -> RunStore:
    """Open (creating or migrating) the store in `home` (default: paths.home_dir()).

    Newer schema: StoreError, file untouched. Not a database, or damaged: moved aside to
    `runs.sqlite.corrupt-<time>`, a fresh one started (run folders kept and re-indexed), and
    `store.notice` says so. Then active runs whose process died are marked interrupted.
    """
    home_path = Path(home) if home is not None else home_dir()
    try:
        (home_path / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the run store folder {home_path}: {exc.strerror}.",
                         "Set LSTM_DESKTOP_HOME to a folder you can write to.") from exc
    store = store_recovery.open_checked(RunStore(home_path))
    if recover:
        store.recover_interrupted()
    return store
