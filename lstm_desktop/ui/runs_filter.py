"""The runs table's filter: free text, a dataset, a status, and hidden runs left out unless asked.

It never sorts: the source model (ui/runs_table_model.py) sorts with one cached key per run, and
this proxy keeps the source's order. The text is matched against each run's cached haystack.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt

from lstm_desktop.ui.runs_table_model import HIDE_TAG, SORT_ROLE, RunsTableModel


class RunsFilter(QSortFilterProxyModel):
    """Free text (name, model, settings, notes, tags), a dataset, a status and hidden runs; the
    source model sorts (see RunsTableModel.sort), so this proxy keeps its order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.text = ""
        self.words: list[str] = []
        self.dataset = ""
        self.status = ""
        self.show_hidden = False
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def setSourceModel(self, model) -> None:  # noqa: N802 - Qt name
        self._model = model  # kept in Python: sourceModel() is a C++ call per row
        super().setSourceModel(model)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if source is not None:
            source.sort(column, order)

    def set_filter(self, text: str | None = None, dataset: str | None = None, status: str | None = None,
                   show_hidden: bool | None = None) -> None:
        if text is not None:
            self.text = text.strip().lower()
            self.words = self.text.split()
        if dataset is not None:
            self.dataset = dataset
        if status is not None:
            self.status = status
        if show_hidden is not None:
            self.show_hidden = show_hidden
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802 - Qt name
        model: RunsTableModel = self._model
        if not (self.words or self.dataset or self.status) and (self.show_hidden or not model.hidden_ids):
            return True  # nothing to filter on: the common case, kept cheap for 10,000 rows
        run = model.run_at(row)
        if run is None:
            return False
        if not self.show_hidden and HIDE_TAG in run.tags:
            return False
        if self.dataset and run.dataset != self.dataset:
            return False
        if self.status and str(run.status) != self.status:
            return False
        if self.words:
            hay = model.haystack(run)
            return all(word in hay for word in self.words)
        return True
