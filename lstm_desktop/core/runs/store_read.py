"""The run store's reads: runs (without curves), their curves, and what a watcher polls.

A mixin of core.store.RunStore (it uses that class's per-thread `_conn`). Everything outside the
store modules reads through these methods, never through the connection: the views ask for the
curves of a whole selection in one query (`curves_of`), best-epoch figures read only the plain
curves they need (`plain_curves`), and the window's watcher asks whether anything was committed
(`data_version`) before reading the rows (`listed_rows`).
"""

from __future__ import annotations

import json
from array import array
from typing import Any, Iterable, Sequence

from lstm_desktop.core.runs import store_curves
from lstm_desktop.core.errors import StoreError
from lstm_desktop.core.runs.evented_runs import Run, RunStatus
from lstm_desktop.core.runs.store_schema import LIST_COLUMNS
from lstm_desktop.core.runs.stored_run import StoredRun

MAX_RUN_ID = 2**63 - 1  # SQLite's largest integer
_LIST_SQL = f"SELECT {', '.join(LIST_COLUMNS)} FROM runs"
_ID_CHUNK = 900  # ids per `IN (...)`: under SQLite's oldest limit of 999 bound values


def run_from_row(row: tuple) -> Run:
    """A Run from a row of LIST_COLUMNS (StoredRun reads damaged values as such)."""
    return StoredRun(**dict(zip(LIST_COLUMNS, row)))


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _ID_CHUNK):
        yield ids[i:i + _ID_CHUNK]


class RunReading:
    """Reading methods of RunStore; each is one query (or one per 900 ids) on this thread's connection."""

    # ---- runs ----------------------------------------------------------------------------------
    def list_runs(self, dataset: str | None = None, status: str | None = None, text: str | None = None,
                  trash: bool = False) -> list[Run]:
        """Runs (without curves), oldest first; `trash` lists only deleted ones."""
        where = ["deleted_at IS NOT NULL" if trash else "deleted_at IS NULL"]
        args: list[Any] = []
        if dataset:
            where.append("dataset = ?")
            args.append(dataset)
        if status:
            where.append("status = ?")
            args.append(RunStatus(status).value)
        if text:  # % and _ are the user's own characters here, not wildcards
            where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in ("name", "notes", "tags", "variant")) + ")")
            args.extend([f"%{like_escape(text)}%"] * 4)
        sql = f"{_LIST_SQL} WHERE {' AND '.join(where)} ORDER BY id"
        return [run_from_row(row) for row in self._conn().execute(sql, args)]

    def load_runs(self) -> list[Run]:
        """Every run not in the trash: what the window shows at launch."""
        return self.list_runs()

    def trashed_runs(self) -> list[Run]:
        return self.list_runs(trash=True)

    def get_run(self, run_id: int) -> Run:
        if not 0 < int(run_id) <= MAX_RUN_ID:  # SQLite would raise OverflowError for a larger one
            raise StoreError(f"There is no run {run_id}: run ids are whole numbers from 1 to {MAX_RUN_ID}.",
                             "lstm-desktop runs list shows them.")
        row = self._conn().execute(f"{_LIST_SQL} WHERE id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise StoreError(f"There is no run {run_id} in the run store.", "lstm-desktop runs list shows them.")
        return run_from_row(row)

    def find(self, ref: str | int) -> Run:
        """A run by id, else by its (unique, case-insensitive) name, trash excluded for names."""
        text = str(ref).strip()
        if text.isascii() and text.isdigit():
            if not 0 < int(text) <= MAX_RUN_ID:
                raise StoreError(f"There is no run {text}: run ids are whole numbers from 1 to {MAX_RUN_ID}.",
                                 "lstm-desktop runs list shows them.")
            return self.get_run(int(text))
        rows = self._conn().execute("SELECT id FROM runs WHERE deleted_at IS NULL AND name = ? COLLATE NOCASE",
                                    (text,)).fetchall()
        if len(rows) == 1:
            return self.get_run(rows[0][0])
        if rows:
            raise StoreError(f"{len(rows)} runs are named {text!r}.", "Give the run's id instead (runs list).")
        raise StoreError(f"There is no run {text!r} in the run store.", "lstm-desktop runs list shows them.")

    def info(self, run_id: int) -> dict[str, Any]:
        row = self._conn().execute("SELECT info FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        try:
            info = json.loads(row[0]) if row and row[0] else {}
        except (ValueError, TypeError):
            return {"damage": "its stored info is not valid JSON"}
        return info if isinstance(info, dict) else {"damage": "its stored info is not an object"}

    # ---- what a watcher polls ------------------------------------------------------------------
    def data_version(self) -> int:
        """A number that changes when another connection commits (SQLite's `PRAGMA data_version`:
        a few microseconds, it reads only the WAL index)."""
        return int(self._conn().execute("PRAGMA data_version").fetchone()[0])

    def listed_rows(self) -> dict[int, tuple]:
        """run id -> its row of LIST_COLUMNS, for every run not in the trash (run_from_row makes a Run)."""
        return {int(row[0]): tuple(row) for row in self._conn().execute(f"{_LIST_SQL} WHERE deleted_at IS NULL")}

    # ---- curves --------------------------------------------------------------------------------
    def curves_of(self, run_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """get_curves of many runs with one query: run id -> curves, for each id asked (a run with
        none, or not in the store, gets empty curves)."""
        ids = list(dict.fromkeys(int(i) for i in run_ids))
        rows: dict[int, list[tuple[str, int, bytes]]] = {i: [] for i in ids}
        for chunk in _chunks(ids):
            sql = (f"SELECT run_id, name, width, data FROM curves WHERE run_id IN ({', '.join('?' * len(chunk))})"
                   " ORDER BY run_id, name, seq")
            for run_id, name, width, data in self._conn().execute(sql, chunk):
                rows[run_id].append((name, width, data))
        out = {}
        for run_id, chunks in rows.items():
            curves, notes = store_curves.decode(chunks)
            if notes:
                curves["damage"] = notes
            out[run_id] = curves
        return out

    def get_curves(self, run_id: int) -> dict[str, Any]:
        """{"batch_x": [...], "batch_loss": [...], "epoch": [...], ..., "probe": [(x, [p..])],
        "gradient_flow": [(progress, [norms])]}: history keys as TrainingOutcome.fit.history.
        A damaged chunk is skipped, and said in "damage"."""
        return self.curves_of([run_id])[int(run_id)]

    def fill_curves(self, run: Run) -> Run:
        """Load a listed run's curves into it (history, probe, gradient_flow)."""
        self.fill_curves_of([run])
        return run

    def fill_curves_of(self, runs: Sequence[Run]) -> None:
        """fill_curves of many runs with one query (a selection of 20 runs: one read, not 20)."""
        read = self.curves_of(r.id for r in runs)
        for run in runs:
            curves = dict(read[int(run.id)])
            damage = curves.pop("damage", None)
            if damage:
                run.message = " ".join([run.message, *(f"Note: {d}." for d in damage)]).strip()
            run.probe = curves.pop("probe")
            run.gradient_flow = curves.pop("gradient_flow")
            run.history = curves

    def plain_curves(self, names: Sequence[str], run_ids: Iterable[int] | None = None
                     ) -> dict[int, dict[str, array]]:
        """run id -> {name: its values as array('d')} for the plain (one value a point) curves named,
        of these runs (every run when None). Plain arrays, not numpy or lists: reading two short
        curves of 10,000 runs is then one query and little else."""
        names = [str(n) for n in names if n not in store_curves.GRID_CURVES]
        if not names:
            return {}
        sql = f"SELECT run_id, name, data FROM curves WHERE name IN ({', '.join('?' * len(names))}) AND width = 1"
        parts: dict[int, dict[str, array]] = {}
        batches: Iterable[list[int] | None] = [None] if run_ids is None else \
            _chunks(list(dict.fromkeys(int(i) for i in run_ids)))
        for chunk in batches:
            where = "" if chunk is None else f" AND run_id IN ({', '.join('?' * len(chunk))})"
            for run_id, name, data in self._conn().execute(sql + where + " ORDER BY run_id, name, seq",
                                                           [*names, *(chunk or ())]):
                values = parts.setdefault(run_id, {}).setdefault(name, array("d"))
                if len(data) % 8 == 0:  # a damaged chunk is left out, as get_curves does
                    values.frombytes(data)
        return parts


def like_escape(text: str) -> str:
    """`text` for a LIKE pattern with ESCAPE '\\': its %, _ and \\ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
