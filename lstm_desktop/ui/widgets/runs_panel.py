"""Every run, kept: a sortable, filterable table with several runs selectable for comparison.

A view of the Runs model (ui/runs_table_model.py): it shows and selects, and asks the window to
act (export, copy the command, use on the pad, notes and tags, delete) through signals.
"""

from __future__ import annotations

from PySide6.QtCore import QIdentityProxyModel, QItemSelection, QItemSelectionModel, QPoint, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QHeaderView,
                               QLineEdit, QMenu, QPushButton, QTableView, QVBoxLayout, QWidget)

from lstm_desktop.core.training.config import DATASET_CHOICES
from lstm_desktop.core.runs.evented_runs import Run, Runs, RunStatus
from lstm_desktop.ui.runs_filter import is_hidden, is_pinned
from lstm_desktop.ui.runs_table_model import NAME, RUN_ID_ROLE, RunsTableModel
from lstm_desktop.ui.widgets.common import heading, muted, named
from lstm_desktop.ui.widgets.model_selector import reads_drawings


class RunsPanel(QWidget):
    currentRunChanged = Signal(int)     # run id, -1 for none
    selectionChanged = Signal(list)     # the selected run ids (the comparison overlays them)
    saveRequested = Signal(int)         # export the run's model to a file
    copyCommandRequested = Signal(int, bool)   # run id, torchrun form
    usePadRequested = Signal(int)
    notesRequested = Signal(int)
    deleteRequested = Signal(list)
    trashRequested = Signal()
    pinRequested = Signal(list, bool)     # run ids, pin (True) or unpin
    hideRequested = Signal(list, bool)    # run ids, hide (True) or show again
    diffRequested = Signal(list)          # the two selected run ids

    def __init__(self, runs: Runs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self.runs = runs
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Runs", 1))
        layout.addWidget(muted("Every run is kept. Click a run to see its results; Ctrl- or Shift-click "
                               "several to compare them. Double-click a name to rename it."))
        filters = QHBoxLayout()
        self.search = named(QLineEdit(), "runsSearch", "Filter runs", "Words that must appear in the run's "
                            "name, model, settings, notes or tags")
        self.search.setPlaceholderText("Filter…")
        self.search.setClearButtonEnabled(True)
        self.dataset_filter = named(QComboBox(), "runsDatasetFilter", "Show runs on dataset")
        self.dataset_filter.addItem("All datasets", "")
        for value, text in DATASET_CHOICES:
            self.dataset_filter.addItem(text.split(" (")[0], value)
        self.status_filter = named(QComboBox(), "runsStatusFilter", "Show runs with status")
        self.status_filter.addItem("Any status", "")
        for status in RunStatus:
            self.status_filter.addItem(status.value, status.value)
        self.show_hidden = named(QCheckBox("Hidden"), "runsShowHidden", "Show hidden runs",
                                 "Also list the runs you hid (Hide)")
        filters.addWidget(self.search, 2)
        filters.addWidget(self.dataset_filter, 1)
        filters.addWidget(self.status_filter, 1)
        filters.addWidget(self.show_hidden)
        layout.addLayout(filters)
        self.modelless_check = named(QCheckBox("Show runs without a model"), "runsShowModellessCheck",
                                     "Show runs without a model", "Failed or stopped runs that never finished an "
                                     "epoch have no model; they are kept, and hidden unless this is ticked")
        layout.addWidget(self.modelless_check)

        self.model = RunsTableModel(runs, self)
        self.model.set_filter(modelless=False)  # runs without a model are left out unless asked for
        self.proxy = QIdentityProxyModel(self)  # the model filters and sorts itself (ui/runs_filter.py)
        self.proxy.setSourceModel(self.model)
        self.table = named(QTableView(), "runsTable", "Runs", "Every run trained here, on the command line "
                           "or opened from a file")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME, Qt.SortOrder.DescendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row sizes
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((80, 170, 190, 64, 56, 70, 58, 64, 56, 54, 70, 110, 80)):
            self.table.setColumnWidth(col, width)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        # at least a few runs in view however small the window: the splitter below may not squeeze the list
        # to one row (seen at 1024x700), the compare views give way instead
        rows = 3
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height()
                                    + rows * self.table.verticalHeader().defaultSectionSize() + 20)
        layout.addWidget(self.table, 1)

        buttons = QGridLayout()  # two rows: the panel must fit beside the results on a 1024 px screen
        self.save_button = named(QPushButton("Export model…"), "saveRunButton", "Export the selected run's model",
                                 "Write the run's model to a file of your choice (Ctrl+S); it is kept in the "
                                 "run store anyway")
        self.copy_button = named(QPushButton("Copy command"), "copyCommandButton", "Copy the training command",
                                 "Copy the `lstm-desktop train` command that reproduces this run")
        self.copy_torchrun_button = named(QPushButton("Copy torchrun"), "copyTorchrunButton",
                                          "Copy the torchrun command", "Copy the data-parallel torchrun form")
        self.pad_button = named(QPushButton("Use on pad"), "usePadButton", "Use this run's model on the pad",
                                "Draw digits for this run's model on the Draw tab")
        self.notes_button = named(QPushButton("Notes…"), "runNotesButton", "Notes and tags of the run")
        self.remove_button = named(QPushButton("Delete"), "removeRunButton", "Delete the selected runs",
                                   "Move the selected runs to the trash (Delete); restore them from Trash…")
        self.trash_button = named(QPushButton("Trash…"), "trashButton", "Deleted runs")
        self.pin_button = named(QPushButton("Pin"), "pinRunButton", "Pin the selected runs",
                                "Keep the selected runs at the top of the table, whatever the sort (again: unpin)")
        self.hide_button = named(QPushButton("Hide"), "hideRunButton", "Hide the selected runs",
                                 "Leave the selected runs out of the table (tick Hidden to list them again)")
        self.diff_button = named(QPushButton("Diff"), "diffRunsButton", "Diff the two selected runs",
                                 "Only what differs between the two selected runs, with the metric deltas")
        for i, b in enumerate((self.save_button, self.pad_button, self.copy_button, self.copy_torchrun_button,
                               self.diff_button, self.notes_button, self.pin_button, self.hide_button,
                               self.remove_button, self.trash_button)):
            buttons.addWidget(b, i // 5, i % 5)
        layout.addLayout(buttons)

        self.search.textChanged.connect(lambda t: self.set_filter(text=t))
        self.modelless_check.toggled.connect(lambda on: self.set_filter(modelless=on))
        self.dataset_filter.currentIndexChanged.connect(
            lambda _i: self.set_filter(dataset=self.dataset_filter.currentData() or ""))
        self.status_filter.currentIndexChanged.connect(
            lambda _i: self.set_filter(status=self.status_filter.currentData() or ""))
        self._selected: list[int] | None = None
        forget = lambda *_: setattr(self, "_selected", None)  # noqa: E731
        for signal in (self.proxy.layoutChanged, self.proxy.modelReset, self.proxy.rowsRemoved,
                       self.proxy.rowsInserted):
            signal.connect(forget)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._on_current())
        self.save_button.clicked.connect(lambda: self._emit_current(self.saveRequested))
        self.copy_button.clicked.connect(lambda: self._emit_copy(False))
        self.copy_torchrun_button.clicked.connect(lambda: self._emit_copy(True))
        self.pad_button.clicked.connect(lambda: self._emit_current(self.usePadRequested))
        self.notes_button.clicked.connect(lambda: self._emit_current(self.notesRequested))
        self.remove_button.clicked.connect(lambda: self.selected_ids() and self.deleteRequested.emit(self.selected_ids()))
        self.trash_button.clicked.connect(self.trashRequested)
        self.show_hidden.toggled.connect(lambda on: self.set_filter(show_hidden=on))
        self.pin_button.clicked.connect(lambda: self._emit_toggle(self.pinRequested, is_pinned))
        self.hide_button.clicked.connect(lambda: self._emit_toggle(self.hideRequested, is_hidden))
        self.diff_button.clicked.connect(lambda: len(self.selected_ids()) == 2
                                         and self.diffRequested.emit(self.selected_ids()))
        runs.events.changed.connect(lambda run, names: run.id == self.current_id() and self._update_buttons())
        self._update_buttons()

    # ---- selection ----------------------------------------------------------------------------
    def current_id(self) -> int:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row(), index.parent()):
            ids = self.selected_ids()
            return ids[-1] if ids else -1
        value = index.data(RUN_ID_ROLE)
        return int(value) if value is not None else -1

    def current(self) -> Run | None:
        return self.runs.get(self.current_id())

    def selected_ids(self) -> list[int]:
        """The selected runs' ids, ascending (kept until the selection or the rows change)."""
        if self._selected is None:
            rows = self.table.selectionModel().selectedRows()
            self._selected = sorted(int(v) for v in (r.data(RUN_ID_ROLE) for r in rows) if v is not None)
        return list(self._selected)

    def set_filter(self, **settings) -> None:
        """Filter the table (RunFilter.set's arguments); the runs still shown stay selected, and
        the comparison hears of the selection only when it changed."""
        before, current = self.selected_ids(), self.current_id()
        selection = self.table.selectionModel()
        blocked = selection.blockSignals(True)
        try:
            self.model.set_filter(**settings)  # a model reset: the selection model forgets
            self._select_rows([self.model.row_of(i) for i in before], QItemSelectionModel.SelectionFlag.Select)
            row = self.model.row_of(current)
            if row >= 0:
                selection.setCurrentIndex(self.proxy.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            selection.blockSignals(blocked)
        self._selected = None
        self.table.viewport().update()
        if self.selected_ids() != before:
            self._on_selection()
        elif self.current_id() != current:
            self._on_current()

    def _select_rows(self, rows: list[int], flag) -> None:
        """Select whole rows, stretches of neighbours as one range each."""
        selection = QItemSelection()
        last = self.proxy.columnCount() - 1
        rows = sorted(r for r in rows if r >= 0)
        start = prev = None
        for row in [*rows, None]:
            if start is not None and (row is None or row != prev + 1):
                selection.select(self.proxy.index(start, 0), self.proxy.index(prev, last))
                start = None
            if row is not None and start is None:
                start = row
            prev = row
        self.table.selectionModel().select(selection, flag)

    def select(self, run_id: int, add: bool = False) -> None:
        if run_id not in self.runs:
            return
        if self.model.row_of(run_id) < 0:  # filtered out: show it anyway
            self.search.clear()
            self.dataset_filter.setCurrentIndex(0)
            self.status_filter.setCurrentIndex(0)
            self.modelless_check.setChecked(True)
            if self.model.row_of(run_id) < 0:
                self.show_hidden.setChecked(True)
        index = self.proxy.index(self.model.row_of(run_id), 0)
        flags = QItemSelectionModel.SelectionFlag.Rows | (
            QItemSelectionModel.SelectionFlag.Select if add else QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.table.selectionModel().setCurrentIndex(index, flags)
        self.table.scrollTo(index)

    def select_many(self, run_ids: list[int]) -> None:
        """Make exactly these runs (those the filter shows) the selection, in one change."""
        self._select_rows([self.model.row_of(i) for i in run_ids], QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _on_selection(self, *_args) -> None:
        self._selected = None
        self.selectionChanged.emit(self.selected_ids())
        self._on_current()

    def _on_current(self) -> None:
        self._update_buttons()
        self.currentRunChanged.emit(self.current_id())

    def _update_buttons(self) -> None:
        run = self.current()
        ids = self.selected_ids()
        has_model = run is not None and bool(run.checkpoint_path or run.extra.get("checkpoint"))
        self.save_button.setEnabled(has_model and not run.status.active)
        self.pad_button.setEnabled(run is not None and reads_drawings(run))  # not temporal order's sequences
        self.copy_button.setEnabled(run is not None and run.config is not None)
        self.copy_torchrun_button.setEnabled(run is not None and run.config is not None)
        self.notes_button.setEnabled(run is not None)
        selected = [r for r in (self.runs.get(i) for i in ids) if r is not None]
        self.pin_button.setEnabled(bool(selected))
        self.pin_button.setText("Unpin" if selected and all(is_pinned(r) for r in selected) else "Pin")
        self.hide_button.setEnabled(bool(selected))
        self.hide_button.setText("Show" if selected and all(is_hidden(r) for r in selected) else "Hide")
        self.diff_button.setEnabled(len(selected) == 2)
        self.remove_button.setEnabled(bool(ids) and not any(
            (r := self.runs.get(i)) is not None and r.status.active for i in ids))

    def _emit_current(self, signal) -> None:
        run_id = self.current_id()
        if run_id >= 0:
            signal.emit(run_id)

    def _emit_toggle(self, signal, state) -> None:
        """Pin (hide) the selection, or unpin (show) it when every selected run already is."""
        runs = [r for r in (self.runs.get(i) for i in self.selected_ids()) if r is not None]
        if runs:
            signal.emit([r.id for r in runs], not all(state(r) for r in runs))

    def _emit_copy(self, torchrun: bool) -> None:
        run_id = self.current_id()
        if run_id >= 0:
            self.copyCommandRequested.emit(run_id, torchrun)

    def _context_menu(self, pos: QPoint) -> None:
        if self.current() is None:
            return
        menu = QMenu(self)
        menu.setObjectName("runsContextMenu")
        for button in (self.save_button, self.copy_button, self.copy_torchrun_button, self.pad_button,
                       self.diff_button, self.pin_button, self.hide_button, self.notes_button, self.remove_button):
            action = menu.addAction(button.text())
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
        menu.exec(self.table.viewport().mapToGlobal(pos))
