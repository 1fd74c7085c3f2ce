"""The run store's schema and its migrations, versioned with `PRAGMA user_version`.

A new version appends one step to MIGRATIONS (never edits a released one); opening an older
database applies the missing steps in one transaction. A database whose version is above
SCHEMA_VERSION was made by a newer lstm-desktop and is refused, untouched.
"""

from __future__ import annotations

import sqlite3

from lstm_desktop.core.errors import StoreError

V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    dataset TEXT NOT NULL DEFAULT '',
    variant TEXT NOT NULL DEFAULT '',
    config TEXT,                       -- TrainConfig.to_dict() as JSON
    created TEXT NOT NULL,             -- ISO 8601, local time with offset
    started TEXT,
    ended TEXT,
    seconds REAL,
    device TEXT NOT NULL DEFAULT '',
    torch_version TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    machine TEXT NOT NULL DEFAULT '',
    parameters INTEGER,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    epochs_total INTEGER,
    samples_per_second REAL,
    accuracy REAL,
    metrics TEXT,                      -- Metrics.to_dict() as JSON (per class, confusion matrix)
    notes TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',   -- JSON list of strings
    checkpoint_path TEXT NOT NULL DEFAULT '',  -- relative to the home when inside it
    best_path TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    hint TEXT NOT NULL DEFAULT '',
    info TEXT NOT NULL DEFAULT '{}',   -- JSON: train/val sizes, batches per epoch, world size, python
    deleted_at TEXT
);
CREATE INDEX runs_by_trash ON runs (deleted_at, id);
-- One row per run, curve and appended chunk: float64 values, `width` per point: 1 for a plain
-- curve, 1 + 10 for a probe point (epoch, probabilities), 1 + T for a gradient-flow point.
CREATE TABLE curves (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    width INTEGER NOT NULL DEFAULT 1,
    data BLOB NOT NULL,
    PRIMARY KEY (run_id, name, seq)
) WITHOUT ROWID;
"""

MIGRATIONS: list[str] = [V1]  # MIGRATIONS[i] takes a database from version i to i + 1
SCHEMA_VERSION = len(MIGRATIONS)

LIST_COLUMNS = ("id", "name", "source", "status", "dataset", "variant", "config", "created", "started",
                "ended", "seconds", "device", "torch_version", "host", "machine", "parameters",
                "epochs_done", "epochs_total", "samples_per_second", "metrics", "notes", "tags",
                "checkpoint_path", "best_path", "message", "hint", "deleted_at")
ROW_COLUMNS = (*LIST_COLUMNS, "accuracy", "info")  # a run's whole row, as its folder's run.json keeps it
EDITABLE = frozenset(LIST_COLUMNS) - {"id"} | {"accuracy", "info"}


def newer_error(version: int) -> StoreError:
    return StoreError(f"The run store was made by a newer lstm-desktop (schema {version}; this one reads up "
                      f"to {SCHEMA_VERSION}).", "Update lstm-desktop to open it; it was left untouched.")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION in one write transaction; returns the version found."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise newer_error(found)
    if found == SCHEMA_VERSION:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have just done it
        if found > SCHEMA_VERSION:
            raise newer_error(found)
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
