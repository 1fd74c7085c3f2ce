"""Selected runs side by side: one row per run, one column per setting that differs between them,
and their results beside them. Sortable by any column (numbers as numbers)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from lstm_desktop.core.training.config import EXPOSED
from lstm_desktop.ui.widgets.common import format_duration, format_percent, named

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
# "Epochs trained", not a second "Epochs" beside the setting when the runs' epochs differ
RESULTS = (("accuracy", "Accuracy"), ("f1", "F1"), ("epochs", "Epochs trained"), ("seconds", "Time"))


class _Item(QTableWidgetItem):
    def __init__(self, text: str, key) -> None:
        super().__init__(text)
        self.setData(SORT_ROLE, key)
        self.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)

    def __lt__(self, other: QTableWidgetItem) -> bool:  # type: ignore[override]
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        try:
            return (a is None, a) < (b is None, b)
        except TypeError:
            return str(a) < str(b)


def differing_settings(runs) -> list:
    """The exposed settings whose values are not all the same across these runs."""
    configs = [r.config for r in runs if r.config is not None]
    if len(configs) < 2:
        return []
    return [s for s in EXPOSED if len({repr(getattr(c, s.name)) for c in configs}) > 1]


class HyperparameterTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 0, parent)
        named(self, "hyperparameterTable", "Settings that differ between the selected runs",
              "Select several runs to compare the settings that differ; click a header to sort")
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        # columns sized to their contents once per fill, not re-measured as each item is set
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.columns: list[str] = []

    def set_runs(self, runs) -> None:
        self.setUpdatesEnabled(False)
        try:
            self._fill(list(runs))
        finally:
            self.setUpdatesEnabled(True)

    def _fill(self, runs: list) -> None:
        settings = differing_settings(runs)
        self.setSortingEnabled(False)
        self.columns = ["Run"] + [s.label for s in settings] + [title for _, title in RESULTS]
        self.setColumnCount(len(self.columns))
        self.setHorizontalHeaderLabels(self.columns)
        self.setRowCount(len(runs) if len(runs) > 1 else 0)
        if len(runs) < 2:
            return
        for r, run in enumerate(runs):
            self.setItem(r, 0, _Item(run.name, run.id))
            for c, s in enumerate(settings, start=1):
                value = getattr(run.config, s.name) if run.config is not None else None
                text = "–" if value is None else ("yes" if value is True else "no" if value is False
                                                  else s.format(value) if s.kind is float else str(value))
                self.setItem(r, c, _Item(text, value if not isinstance(value, bool) else int(value)))
            m = run.metrics
            base = 1 + len(settings)
            values = [(format_percent(m.accuracy) if m else "–", m.accuracy if m else None),
                      (f"{m.f1:.4f}" if m else "–", m.f1 if m else None),
                      (str(run.epochs_done), run.epochs_done),
                      (format_duration(run.seconds), run.seconds)]
            for c, (text, key) in enumerate(values):
                item = _Item(text, key)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, base + c, item)
        self.resizeColumnsToContents()
        self.setSortingEnabled(True)
