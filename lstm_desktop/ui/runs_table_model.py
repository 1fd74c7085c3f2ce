"""The runs table as a Qt item model over the Runs collection (core/runs.py), with a filter.

The model subscribes to the collection's added/changed/removed events, so the table shows every
run (thousands load at once: rows are computed when painted, never built ahead) and nobody updates
a row by hand. Sorting is by value (numbers as numbers); the filter takes free text, a dataset
and a status.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal

from lstm_desktop.core.runs import Run, Runs
from lstm_desktop.ui.widgets.common import format_duration, format_percent

RUN_ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Run", "Model", "Settings", "Data", "Epochs", "Accuracy", "F1", "Time", "Status", "Created", "Tags")
NAME, MODEL, SETTINGS, DATA, EPOCHS, ACCURACY, F1, TIME, STATUS, CREATED, TAGS = range(len(COLUMNS))


def settings_text(run: Run) -> str:
    """The settings that most often differ between runs, in a few words."""
    c = run.config
    if c is None:
        return "–"
    parts = [f"lr {c.lr:g}", f"batch {c.batch_size}"]
    if c.lr_schedule != "none":
        parts.append(c.lr_schedule)
    if c.dropout:
        parts.append(f"dropout {c.dropout:g}")
    if c.augment:
        parts.append("augment")
    parts.append(f"seed {c.seed}")
    return " · ".join(parts)


class RunsTableModel(QAbstractTableModel):
    renamed = Signal(int, str)  # run id, new name (the window stores it)

    def __init__(self, runs: Runs, parent=None) -> None:
        super().__init__(parent)
        self.runs = runs
        self._ids: list[int] = [r.id for r in runs]
        self._row: dict[int, int] = {rid: i for i, rid in enumerate(self._ids)}
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
        return None

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
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(run, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{run.label}\nstatus: {run.status}" + (f" — {run.message}" if run.message else "") + \
                (f"\nnotes: {run.notes}" if run.notes else "") + (f"\nfile: {run.checkpoint_path}" if
                                                                 run.checkpoint_path else "")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (EPOCHS, ACCURACY, F1, TIME):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(run: Run, col: int) -> str:
        m = run.metrics
        if col == NAME:
            return run.name
        if col == MODEL:
            return run.variant
        if col == SETTINGS:
            return settings_text(run)
        if col == DATA:
            return run.dataset or "?"
        if col == EPOCHS:
            total = run.epochs_total or (run.config.epochs if run.config is not None else 0)
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

    @staticmethod
    def _sort_value(run: Run, col: int):
        if col == NAME:
            return run.id
        if col == EPOCHS:
            return run.epochs_done
        if col == ACCURACY:
            return run.metrics.accuracy if run.metrics else -1.0
        if col == F1:
            return run.metrics.f1 if run.metrics else -1.0
        if col == TIME:
            return run.seconds if run.seconds is not None else -1.0
        return RunsTableModel._text(run, col).lower()

    # ---- collection events --------------------------------------------------------------------
    def begin_bulk(self) -> None:
        """Many runs are about to be added (the store at launch): one model reset instead of a
        row insertion each."""
        self._bulk = True
        self.beginResetModel()

    def end_bulk(self) -> None:
        self._ids = [r.id for r in self.runs]
        self._row = {rid: i for i, rid in enumerate(self._ids)}
        self._bulk = False
        self.endResetModel()

    def _on_added(self, run: Run) -> None:
        if getattr(self, "_bulk", False):
            return
        row = len(self._ids)
        self.beginInsertRows(QModelIndex(), row, row)
        self._ids.append(run.id)
        self._row[run.id] = row
        self.endInsertRows()

    def _on_changed(self, run: Run, names: tuple[str, ...]) -> None:
        row = self._row.get(run.id, -1)
        if row >= 0 and set(names) - {"history", "probe", "gradient_flow", "extra"}:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _on_removed(self, run: Run) -> None:
        row = self._row.get(run.id, -1)
        if row < 0:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._ids[row]
        self._row = {rid: i for i, rid in enumerate(self._ids)}
        self.endRemoveRows()


class RunsFilter(QSortFilterProxyModel):
    """Free text (name, model, settings, notes, tags), a dataset and a status; sorts by value."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.text = ""
        self.dataset = ""
        self.status = ""
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_filter(self, text: str | None = None, dataset: str | None = None, status: str | None = None) -> None:
        if text is not None:
            self.text = text.strip().lower()
        if dataset is not None:
            self.dataset = dataset
        if status is not None:
            self.status = status
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802 - Qt name
        model: RunsTableModel = self.sourceModel()  # type: ignore[assignment]
        run = model.run_at(row)
        if run is None:
            return False
        if self.dataset and run.dataset != self.dataset:
            return False
        if self.status and str(run.status) != self.status:
            return False
        if self.text:
            hay = " ".join((run.name, run.variant, settings_text(run), run.notes, " ".join(run.tags),
                            run.dataset, str(run.status))).lower()
            return all(word in hay for word in self.text.split())
        return True
