"""Each run's folder holds what rebuilds its row, written as the run goes: the database is an index
that can be lost (a truncated or zeroed runs.sqlite) without losing a run.

- `run.json`: the run's row (every column, as stored), replaced atomically after each change.
- `curves.jsonl`: one line per appended curve chunk ({"name", "width", "data"}), in order; a line
  cut by a crash is skipped on reading.

The writes are not fsynced (the database is not either: WAL, synchronous NORMAL); a rename keeps
run.json whole. Reading raises FolderDamage naming the file, so recovery can mark the run damaged.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterable

from lstm_desktop.core.runs.store_schema import ROW_COLUMNS

log = logging.getLogger(__name__)

ROW_FILE = "run.json"
CURVES_FILE = "curves.jsonl"


class FolderDamage(Exception):
    """A run folder file that exists but cannot be read back."""


def mirror(conn: sqlite3.Connection, run_dir: Callable[[int], Path], rows: Iterable[int], curves: list) -> None:
    """After a commit: each changed run's row into its run.json, its new curve chunks (run id,
    (name, width, values)) onto its curves.jsonl. A failure is logged: the database has the data."""
    rows = list(rows)
    try:
        for run_id in rows:
            row = conn.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is not None:
                write_row(run_dir(run_id), dict(zip(ROW_COLUMNS, row)))
        by_run: dict[int, list] = {}
        for run_id, (name, width, data) in curves:
            by_run.setdefault(run_id, []).append((name, width, data.tolist()))
        for run_id, chunks in by_run.items():
            append_curves(run_dir(run_id), chunks)
    except OSError as exc:
        log.warning("could not mirror runs %s into their folders: %s", sorted(rows), exc)


def write_row(folder: Path, row: dict[str, Any]) -> None:
    """Replace run.json with `row` in one rename (a reader sees the old row or the new one)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ROW_FILE
    tmp = folder / f".{ROW_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(row, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target)


def _line(name: str, width: int, data: list[float]) -> str:
    return json.dumps({"name": name, "width": int(width), "data": [float(v) for v in data]}) + "\n"


def append_curves(folder: Path, chunks: Iterable[tuple[str, int, list[float]]]) -> None:
    """Append curve chunks (name, width, flat values) as lines of curves.jsonl."""
    lines = "".join(_line(*c) for c in chunks)
    if lines:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / CURVES_FILE, "a", encoding="utf-8") as fh:
            fh.write(lines)


def replace_curves(folder: Path, chunks: Iterable[tuple[str, int, list[float]]]) -> None:
    """Write curves.jsonl afresh in one rename (after a recovery rebuilt the curves from the model)."""
    tmp = folder / f".{CURVES_FILE}.{os.getpid()}.tmp"
    tmp.write_text("".join(_line(*c) for c in chunks), encoding="utf-8")
    os.replace(tmp, folder / CURVES_FILE)


def read_row(folder: Path) -> dict[str, Any] | None:
    """The row run.json holds; None when there is none; FolderDamage when it is unreadable."""
    path = folder / ROW_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise FolderDamage(f"{ROW_FILE} cannot be read ({exc.__class__.__name__})") from exc
    try:
        row = json.loads(text)
    except ValueError as exc:
        raise FolderDamage(f"{ROW_FILE} is not valid JSON") from exc
    if not isinstance(row, dict) or not isinstance(row.get("id"), int) or row["id"] != _folder_id(folder):
        raise FolderDamage(f"{ROW_FILE} does not describe run {folder.name}")
    return row


def read_curves(folder: Path) -> list[tuple[str, int, list[float]]] | None:
    """The chunks curves.jsonl holds, in order; None when there is none; FolderDamage when no line
    can be read. A broken line (a crash mid-append) is skipped."""
    path = folder / CURVES_FILE
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FolderDamage(f"{CURVES_FILE} cannot be read ({exc.__class__.__name__})") from exc
    chunks, bad = [], 0
    for line in text.splitlines():
        try:
            d = json.loads(line)
            name, width, data = str(d["name"]), int(d["width"]), [float(v) for v in d["data"]]
            if width < 1 or len(data) % width or not data:
                raise ValueError(line)
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        chunks.append((name, width, data))
    if bad and not chunks:
        raise FolderDamage(f"{CURVES_FILE} holds no readable curve")
    return chunks


def _folder_id(folder: Path) -> int | None:
    return int(folder.name) if folder.name.isdigit() else None
