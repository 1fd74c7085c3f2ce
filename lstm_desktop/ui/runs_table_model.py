"""The runs table as a Qt item model over the Runs collection (core/runs/evented_runs.py), with a filter.

The model subscribes to the collection's added/changed/removed events, so the table shows every
run (thousands load at once: rows are computed when painted, never built ahead) and nobody updates
a row by hand. Sorting is by value (numbers as numbers), done by the model itself with one key per
row (a proxy's sort asks for two values per comparison: over a second with 10,000 runs); pinned
runs stay on top in either order. The model also filters (ui/runs_filter.py: free text, a dataset,
a status, hidden runs and runs without a model left out unless asked): its rows are the runs the
filter keeps, in the sorted order of all runs. Pinned and hidden are the run's tags "pinned" and
"hidden", so they are kept in the run store and shown by `lstm-desktop runs list --search`.
"""

from __future__ import annotations

from typing import Any


from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal

from lstm_desktop.core.runs.run_data import best_epoch
from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.core.runs.stored_run import accuracy_f1
from lstm_desktop.ui.runs_filter import (HIDE_TAG, PIN_TAG, RunFilter, flags_of, haystack_of, is_pinned,
                                         settings_text)
from lstm_desktop.ui.run_row_look import hidden_look, row_tooltip
from lstm_desktop.ui.widgets.common import format_duration, format_percent

RUN_ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Run", "Model", "Settings", "Data", "Epochs", "Accuracy", "F1", "Best val", "Best ep.", "Time", "Status",
           "Created", "Tags")
NAME, MODEL, SETTINGS, DATA, EPOCHS, ACCURACY, F1, BEST, BEST_EPOCH, TIME, STATUS, CREATED, TAGS = range(len(COLUMNS))
NUMERIC = (EPOCHS, ACCURACY, F1, BEST, BEST_EPOCH, TIME)
HEADER_TIPS = {ACCURACY: "Test accuracy of the last epoch's model", F1: "Macro F1 on the test set",
               BEST: "Best validation accuracy over the epochs", BEST_EPOCH: "The epoch of the best validation accuracy"}


class RunsTableModel(QAbstractTableModel):
    renamed = Signal(int, str)  # run id, new name (the window stores it)

    def __init__(self, runs: Runs, parent=None) -> None:
        super().__init__(parent)
        self.runs = runs
        self._order: list[int] = [r.id for r in runs]  # every run, sorted
        self._ids: list[int] = list(self._order)  # the rows: the runs the filter keeps, in that order
        self._row: dict[int, int] = {rid: i for i, rid in enumerate(self._ids)}
        self.filter = RunFilter()
        self.bests: dict[int, tuple[float, int] | None] = {}  # run id -> (best val accuracy, epoch)
        self._hay: dict[int, str] = {}  # run id -> the text the filter searches (runs_filter.haystack_of)
        self._flags: dict[int, tuple] = {}  # run id -> the rest the filter reads (runs_filter.flags_of)
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._keys: dict[int, dict[int, Any]] = {}  # column -> run id -> sort key (computed once per change)
        self.pinned_ids: set[int] = set()
        self.hidden_ids: set[int] = set()  # the filter skips its per-run work when this is empty
        self._order_stale = True  # a run changed since the last sort
        self._warm: list[int] = []  # run ids whose filter facts / metric sort keys are still to be built
        self._warm_keys: list[int] = []
        self._warm_timer = QTimer(self)
        self._warm_timer.setInterval(0)
        self._warm_timer.timeout.connect(self._warm_some)
        runs.events.added.connect(self._on_added)
        runs.events.changed.connect(self._on_changed)
        runs.events.removed.connect(self._on_removed)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt name
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return None

    # ---- best epoch, filter text --------------------------------------------------------------
    def set_bests(self, bests: dict[int, tuple[float, int]]) -> None:
        """Best-epoch figures of stored runs (core/run_data.best_epochs: one query for all of them)."""
        self.bests.update(bests)
        best_keys, epoch_keys = self._keys.setdefault(BEST, {}), self._keys.setdefault(BEST_EPOCH, {})
        for rid, (value, epoch) in bests.items():  # their sort keys too: a first sort need not make 10,000
            best_keys[rid], epoch_keys[rid] = value, epoch
        self._order_stale = True
        if self._ids:
            self.dataChanged.emit(self.index(0, BEST), self.index(len(self._ids) - 1, BEST_EPOCH))

    def best_of(self, run: Run) -> tuple[float, int] | None:
        if run.id not in self.bests:
            self.bests[run.id] = best_epoch(run.history) if run.history else None
        return self.bests[run.id]

    def filter_flags(self, run: Run) -> tuple:
        """What the filter reads of a run besides its text (runs_filter.flags_of), once per change."""
        flags = self._flags.get(run.id)
        if flags is None:
            flags = self._flags[run.id] = flags_of(run)
        return flags

    def haystack(self, run: Run) -> str:
        """The lower-case text the filter searches, built once per change of the run."""
        text = self._hay.get(run.id)
        if text is None:
            text = self._hay[run.id] = haystack_of(run)
        return text

    def _metric_keys(self, run: Run) -> dict[int, float]:
        """Sort keys of the accuracy and F1 columns; a stored run's metrics are read from the head of
        their JSON (Metrics.to_dict's first four keys) without parsing the rest or building Metrics
        (10,000 of those took over a second on the first sort; parsing each whole, half a second)."""
        raw = run.__dict__.get("_metrics")
        if isinstance(raw, str):
            values = accuracy_f1(raw)
        else:
            m = run.metrics
            values = (m.accuracy, m.f1) if m is not None else (-1.0, -1.0)
        keys = {ACCURACY: values[0], F1: values[1]}
        for col, value in keys.items():
            self._keys.setdefault(col, {})[run.id] = value
        return keys

    def _warm_some(self, count: int = 400, keys: int = 2500) -> None:
        """Build metric sort keys (cheap: thousands a tick), then filter texts (a few hundred a
        tick) while the window idles: the first sort by accuracy, or the first keystroke in the
        filter, then does not pay for 10,000 of them at once."""
        if self._warm_keys:
            batch, self._warm_keys = self._warm_keys[:keys], self._warm_keys[keys:]
            accuracy = self._keys.setdefault(ACCURACY, {})
            for rid in batch:
                run = self.runs.get(rid)
                if run is not None and rid not in accuracy:
                    self._metric_keys(run)
            return
        batch, self._warm = self._warm[:count], self._warm[count:]
        for rid in batch:
            run = self.runs.get(rid)
            if run is not None:
                self.haystack(run)
        if not self._warm:
            self._warm_timer.stop()

    def run_at(self, row: int) -> Run | None:
        return self.runs.get(self._ids[row]) if 0 <= row < len(self._ids) else None

    def row_of(self, run_id: int) -> int:
        return self._row.get(run_id, -1)

    def flags(self, index: QModelIndex):
        base = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        return base | Qt.ItemFlag.ItemIsEditable if index.column() == NAME else base

    def setData(self, index: QModelIndex, value: Any, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        run = self.run_at(index.row())
        name = str(value).strip()
        if role != Qt.ItemDataRole.EditRole or index.column() != NAME or run is None or not name:
            return False
        self.renamed.emit(run.id, name[:200])
        return True

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole) -> Any:
        run = self.run_at(index.row())
        if run is None:
            return None
        col = index.column()
        if role == RUN_ID_ROLE:
            return run.id
        if role == SORT_ROLE:
            return self._sort_value(run, col)
        if role == Qt.ItemDataRole.EditRole and col == NAME:
            return run.name
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(run, col)
        if run.id in self.hidden_ids and role in (Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ForegroundRole):
            return hidden_look(role)  # listed because Hidden is ticked: greyed and in italics
        if role == Qt.ItemDataRole.ToolTipRole:
            return row_tooltip(run, run.id in self.hidden_ids)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, run: Run, col: int) -> str:
        m = run.metrics
        if col == NAME:
            return f"\N{BLACK STAR} {run.name}" if is_pinned(run) else run.name
        if col in (BEST, BEST_EPOCH):
            best = self.best_of(run)
            return "–" if best is None else format_percent(best[0]) if col == BEST else str(best[1])
        if col == MODEL:
            return run.variant
        if col == SETTINGS:
            return settings_text(run)
        if col == DATA:
            return run.dataset or "?"
        if col == EPOCHS:
            total = run.epochs_total or (run.config.epochs if run.config is not None else 0)
            if run.source == "adapted":  # the epochs are the base model's: not this run's "30/30"
                return "adapted"
            return f"{run.epochs_done}/{total}" if total and run.source != "opened" else str(run.epochs_done or "–")
        if col == ACCURACY:
            return format_percent(m.accuracy) if m else "–"
        if col == F1:
            return f"{m.f1:.4f}" if m else "–"
        if col == TIME:
            return format_duration(run.seconds)
        if col == STATUS:
            return str(run.status)
        if col == CREATED:
            return run.created[:16].replace("T", " ")
        return ", ".join(run.tags)

    def _sort_value(self, run: Run, col: int):
        keys = self._keys.setdefault(col, {})
        key = keys.get(run.id)
        if key is None:
            key = keys[run.id] = self._compute_key(run, col)
        return key

    def _compute_key(self, run: Run, col: int):
        if col == NAME:
            return run.id
        if col in (BEST, BEST_EPOCH):
            best = self.best_of(run)
            return -1.0 if best is None else best[0] if col == BEST else best[1]
        if col == EPOCHS:
            return run.epochs_done
        if col in (ACCURACY, F1):
            return self._metric_keys(run)[col]
        if col == TIME:
            return run.seconds if run.seconds is not None else -1.0
        return self._text(run, col).lower()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the rows by one key per run, pinned runs first; selections follow their runs."""
        if not 0 <= column < len(COLUMNS) or ((column, order) == self._sort and not self._order_stale):
            return  # the view asks twice for one header click: the second is free
        self._sort = (column, order)
        self._order_stale = False
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids_before = [self._ids[i.row()] if 0 <= i.row() < len(self._ids) else None for i in persistent]
        self._order = self._sorted(self._order)
        shown = self._row
        self._ids = [rid for rid in self._order if rid in shown]  # the same rows, in the new order
        self._row = {rid: i for i, rid in enumerate(self._ids)}
        self.changePersistentIndexList(persistent, [
            self.index(self._row[rid], i.column()) if rid is not None else QModelIndex()
            for i, rid in zip(persistent, ids_before)])
        self.layoutChanged.emit()

    def set_filter(self, **settings) -> None:
        """Change the filter (RunFilter.set's arguments) and show the runs it keeps: one model reset
        (the runs panel keeps the selection of the runs still shown)."""
        self.filter.set(**settings)
        self.beginResetModel()
        self._ids = self._kept(self._order)
        self._row = {rid: i for i, rid in enumerate(self._ids)}
        self.endResetModel()

    def _kept(self, ids: list[int]) -> list[int]:
        if self.filter.keeps_all(bool(self.hidden_ids)):
            return list(ids)
        flags, hays, words = self._flags, self._hay, bool(self.filter.words)
        for rid in ids:
            if (rid not in flags or (words and rid not in hays)) and (run := self.runs.get(rid)) is not None:
                self.filter_flags(run)
                if words:
                    self.haystack(run)
        return self.filter.kept(ids, flags, hays)

    def resort(self) -> None:
        """Sort again by the current column (pins changed)."""
        if self._sort is not None:
            self.sort(*self._sort)

    def _sorted(self, ids: list[int]) -> list[int]:
        if self._sort is None:
            return ids
        column, order = self._sort
        keys = self._keys.setdefault(column, {})
        for rid in ids:
            if rid not in keys:
                keys[rid] = self._compute_key(self.runs[rid], column)
        keyed = sorted(ids, key=keys.__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)
        if self.pinned_ids:  # stable, reversed: pinned first, each part still in order
            keyed.sort(key=self.pinned_ids.__contains__, reverse=True)
        return keyed

    def _note_tags(self, run: Run) -> None:
        for tag, ids in ((PIN_TAG, self.pinned_ids), (HIDE_TAG, self.hidden_ids)):
            if tag in run.tags:
                ids.add(run.id)
            else:
                ids.discard(run.id)

    # ---- collection events --------------------------------------------------------------------
    def begin_bulk(self) -> None:
        """Many runs are about to be added (the store at launch): one model reset instead of a
        row insertion each."""
        self._bulk = True
        self.beginResetModel()

    def end_bulk(self) -> None:
        for run in self.runs:
            if run.tags:
                self._note_tags(run)
        self._order = self._sorted([r.id for r in self.runs])
        self._ids = self._kept(self._order)
        self._warm = [rid for rid in self._order if rid not in self._hay]
        self._warm_keys = list(self._warm)
        if self._warm:
            self._warm_timer.start()
        self._row = {rid: i for i, rid in enumerate(self._ids)}
        self._bulk = False
        self.endResetModel()

    def _on_added(self, run: Run) -> None:
        if getattr(self, "_bulk", False):
            return
        self._note_tags(run)
        self._order.insert(self._insertion_row(run, self._order), run.id)
        if self.filter.keeps(self.filter_flags(run), lambda: self.haystack(run)):
            self._show_row(run)

    def _show_row(self, run: Run) -> None:
        row = self._insertion_row(run, self._ids)
        self.beginInsertRows(QModelIndex(), row, row)
        self._ids.insert(row, run.id)
        self._row = {rid: i for i, rid in enumerate(self._ids)} if row < len(self._ids) - 1 else \
            {**self._row, run.id: row}
        self.endInsertRows()

    def _hide_row(self, run_id: int) -> None:
        row = self._row[run_id]
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._ids[row]
        self._row = {rid: i for i, rid in enumerate(self._ids)}
        self.endRemoveRows()

    def _insertion_row(self, run: Run, ids: list[int]) -> int:
        """Where a new run goes among `ids` in the current order (newest first by default: the top)."""
        if self._sort is None:
            return len(ids)
        column, order = self._sort
        key = (run.id not in self.pinned_ids, self._sort_value(run, column))
        descending = order == Qt.SortOrder.DescendingOrder
        for row, rid in enumerate(ids):
            other = self.runs.get(rid)
            if other is None:
                continue
            pinned_key, value = rid not in self.pinned_ids, self._sort_value(other, column)
            if pinned_key != key[0]:
                if key[0] < pinned_key:
                    return row
                continue
            try:
                if (key[1] > value) if descending else (key[1] < value):
                    return row
            except TypeError:
                continue
        return len(ids)

    def _on_changed(self, run: Run, names: tuple[str, ...]) -> None:
        row = self._row.get(run.id, -1)
        self._hay.pop(run.id, None)
        self._flags.pop(run.id, None)
        for keys in self._keys.values():
            keys.pop(run.id, None)
        self._order_stale = True
        if "tags" in names:
            self._note_tags(run)
        kept = self.filter.keeps(self.filter_flags(run), lambda: self.haystack(run))
        if kept != (row >= 0):  # now kept, or now left out
            if row >= 0:
                self._hide_row(run.id)
            else:
                self._show_row(run)
            row = self._row.get(run.id, -1)
        if "history" in names and run.history:
            before = self.bests.pop(run.id, None)
            if row >= 0 and self.best_of(run) != before:
                self.dataChanged.emit(self.index(row, BEST), self.index(row, BEST_EPOCH))
        if row >= 0 and set(names) - {"history", "probe", "gradient_flow", "extra"}:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _on_removed(self, run: Run) -> None:
        if run.id in self._order:
            self._order.remove(run.id)
        if run.id in self._row:
            self._hide_row(run.id)
        self._hay.pop(run.id, None)
        self._flags.pop(run.id, None)
        self.bests.pop(run.id, None)
        self.pinned_ids.discard(run.id)
        self.hidden_ids.discard(run.id)
        for keys in self._keys.values():
            keys.pop(run.id, None)
