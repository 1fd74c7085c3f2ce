"""The runs of this session (trained here or opened from files): a table, and what each run holds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QMenu, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from lstm_desktop.ui.widgets.common import format_duration, format_percent, heading, muted, named

NUMBER_ROLE = Qt.ItemDataRole.UserRole


@dataclass
class RunRecord:
    """Everything the window knows about one run; plain Python and numpy, touched on the GUI thread."""

    number: int
    name: str
    config: Any = None                 # core.config.TrainConfig or None (old checkpoints)
    source: str = "trained"            # "trained" here, or "opened" from a file
    status: str = "training"           # training, finished, stopped, failed, opened
    dataset: str = ""
    history: dict = field(default_factory=dict)
    probe: list = field(default_factory=list)   # (x in epochs, 10 probabilities)
    metrics: Any = None                # core.metrics.Metrics
    checkpoint: Any = None             # core.checkpoint.Checkpoint (model on the CPU)
    test_images: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    test_predictions: np.ndarray | None = None
    seconds: float | None = None
    samples_per_second: float | None = None
    device: str = ""
    epochs_completed: int = 0
    path: Path | None = None
    message: str = ""

    @property
    def variant(self) -> str:
        if self.config is not None:
            return self.config.variant_name
        if self.checkpoint is not None:
            s = self.checkpoint.spec
            name = ("BiLSTM" if s.bidirectional else "LSTM") + (f" x{s.layers}" if s.layers > 1 else "")
            return f"{name}{' + attention' if s.attention else ''} ({s.hidden})"
        return "?"

    @property
    def settings_text(self) -> str:
        """The settings that most often differ between runs, in a few words."""
        c = self.config
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

    @property
    def label(self) -> str:
        acc = f", {self.metrics.accuracy * 100:.1f}%" if self.metrics is not None else ""
        return f"{self.name} ({self.variant}{acc})"

    def tooltip(self) -> str:
        lines = [self.label, f"status: {self.status}" + (f" — {self.message}" if self.message else "")]
        if self.path:
            lines.append(f"file: {self.path}")
        if self.device:
            lines.append(f"device: {self.device}")
        if self.config is not None:
            lines.append(json.dumps({k: v for k, v in self.config.to_dict().items() if k != "extra"}, indent=1))
        return "\n".join(lines)


class RunsPanel(QWidget):
    """Table of runs. Check runs to overlay their curves; select one to see its results."""

    currentRunChanged = Signal(int)     # run number, -1 for none
    overlayChanged = Signal()
    saveRequested = Signal(int)
    copyCommandRequested = Signal(int, bool)   # run number, torchrun form
    removeRequested = Signal(int)

    COLUMNS = ["Run", "Model", "Settings", "Data", "Epochs", "Accuracy", "F1", "Time", "Status"]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self.records: dict[int, RunRecord] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Runs", 1))
        layout.addWidget(muted("Select a run to see its results; tick runs to compare their curves."))
        self.table = named(QTableWidget(0, len(self.COLUMNS)), "runsTable", "Runs",
                           "Runs trained in this session and checkpoints you opened")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemChanged.connect(self._on_item_changed)
        layout.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.save_button = named(QPushButton("Save model…"), "saveRunButton", "Save the selected run's model",
                                 "Save the selected run as a checkpoint file (Ctrl+S)")
        self.copy_button = named(QPushButton("Copy command"), "copyCommandButton",
                                 "Copy the training command", "Copy the `lstm-desktop train` command that "
                                 "reproduces this run")
        self.copy_torchrun_button = named(QPushButton("Copy torchrun"), "copyTorchrunButton",
                                          "Copy the torchrun command", "Copy the data-parallel torchrun "
                                          "form of the command")
        self.remove_button = named(QPushButton("Remove"), "removeRunButton", "Remove the selected run")
        for b in (self.save_button, self.copy_button, self.copy_torchrun_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.save_button.clicked.connect(lambda: self._emit_for_current(self.saveRequested))
        self.copy_button.clicked.connect(lambda: self._emit_copy(False))
        self.copy_torchrun_button.clicked.connect(lambda: self._emit_copy(True))
        self.remove_button.clicked.connect(lambda: self._emit_for_current(self.removeRequested))
        self._update_buttons()

    # ---- records ------------------------------------------------------------------------------
    def add_run(self, record: RunRecord, select: bool = True) -> None:
        self.records[record.number] = record
        self.table.blockSignals(True)
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col in range(len(self.COLUMNS)):
            item = QTableWidgetItem()
            item.setData(NUMBER_ROLE, record.number)
            flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
            if col == 0:
                flags |= Qt.ItemFlag.ItemIsUserCheckable
                item.setCheckState(Qt.CheckState.Checked)
            item.setFlags(flags)
            self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        self.update_run(record)
        if select:
            self.select(record.number)
        self.overlayChanged.emit()

    def update_run(self, record: RunRecord) -> None:
        row = self._row_of(record.number)
        if row < 0:
            return
        m = record.metrics
        epochs = record.config.epochs if record.config is not None else None
        done = f"{record.epochs_completed}/{epochs}" if epochs and record.source == "trained" \
            else str(record.epochs_completed or "–")
        texts = [record.name, record.variant, record.settings_text, record.dataset or "?", done,
                 format_percent(m.accuracy) if m else "–", f"{m.f1:.4f}" if m else "–",
                 format_duration(record.seconds), record.status]
        self.table.blockSignals(True)
        for col, text in enumerate(texts):
            item = self.table.item(row, col)
            item.setText(text)
            item.setToolTip(record.tooltip())
        self.table.blockSignals(False)
        if record.number == self.current_number():
            self._update_buttons()

    def remove_run(self, number: int) -> None:
        row = self._row_of(number)
        if row >= 0:
            self.table.removeRow(row)
        self.records.pop(number, None)
        self._on_selection()
        self.overlayChanged.emit()

    def select(self, number: int) -> None:
        row = self._row_of(number)
        if row >= 0:
            self.table.selectRow(row)

    def current_number(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return -1
        item = self.table.item(rows[0].row(), 0)
        return int(item.data(NUMBER_ROLE)) if item is not None else -1

    def current(self) -> RunRecord | None:
        return self.records.get(self.current_number())

    def checked_runs(self) -> list[RunRecord]:
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                rec = self.records.get(int(item.data(NUMBER_ROLE)))
                if rec is not None:
                    out.append(rec)
        return out

    def set_checked(self, number: int, checked: bool) -> None:
        row = self._row_of(number)
        if row >= 0:
            self.table.item(row, 0).setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _row_of(self, number: int) -> int:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and int(item.data(NUMBER_ROLE)) == number:
                return row
        return -1

    # ---- reactions ----------------------------------------------------------------------------
    def _on_selection(self) -> None:
        self._update_buttons()
        self.currentRunChanged.emit(self.current_number())

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            self.overlayChanged.emit()

    def _update_buttons(self) -> None:
        rec = self.current()
        self.save_button.setEnabled(rec is not None and rec.checkpoint is not None and rec.epochs_completed > 0
                                    or (rec is not None and rec.source == "opened"))
        self.copy_button.setEnabled(rec is not None and rec.config is not None)
        self.copy_torchrun_button.setEnabled(rec is not None and rec.config is not None)
        self.remove_button.setEnabled(rec is not None and rec.status != "training")

    def _emit_for_current(self, signal) -> None:
        number = self.current_number()
        if number >= 0:
            signal.emit(number)

    def _emit_copy(self, torchrun: bool) -> None:
        number = self.current_number()
        if number >= 0:
            self.copyCommandRequested.emit(number, torchrun)

    def _context_menu(self, pos: QPoint) -> None:
        if self.current() is None:
            return
        menu = QMenu(self)
        menu.setObjectName("runsContextMenu")
        for button in (self.save_button, self.copy_button, self.copy_torchrun_button, self.remove_button):
            action = menu.addAction(button.text())
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
        menu.exec(self.table.viewport().mapToGlobal(pos))
