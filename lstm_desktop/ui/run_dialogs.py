"""Small dialogs for runs: notes and tags; the trash (restore, or delete for good)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLineEdit, QListWidget,
                               QListWidgetItem, QMessageBox, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.core.runs.store import RunStore
from lstm_desktop.ui.widgets.common import muted, named


class NotesDialog(QDialog):
    def __init__(self, run: Run, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("notesDialog")
        self.setWindowTitle(f"Notes — {run.name}")
        self.notes = named(QPlainTextEdit(run.notes), "runNotesEdit", "Notes")
        self.tags = named(QLineEdit(", ".join(run.tags)), "runTagsEdit", "Tags",
                          "Comma-separated words to find the run by (the filter matches them)")
        form = QFormLayout()
        form.addRow("Notes", self.notes)
        form.addRow("Tags", self.tags)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def values(self) -> tuple[str, tuple[str, ...]]:
        tags = tuple(dict.fromkeys(t.strip() for t in self.tags.text().split(",") if t.strip()))
        return self.notes.toPlainText().strip(), tags


class TrashDialog(QDialog):
    """Deleted runs: restore them, or delete them and their files for good."""

    restored = Signal(int)  # how many runs came back (the status line says so)
    purged = Signal(int)  # how many runs were deleted for good

    def __init__(self, store: RunStore, runs: Runs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runs = runs
        self.setObjectName("trashDialog")
        self.setWindowTitle("Trash")
        self.resize(520, 380)
        self.list = named(QListWidget(), "trashList", "Deleted runs")
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        restore = named(QPushButton("Restore"), "restoreRunsButton", "Restore the selected runs")
        purge = named(QPushButton("Delete for good"), "purgeRunsButton", "Delete the selected runs and their files")
        restore.clicked.connect(self.restore)
        purge.clicked.connect(self.purge)
        buttons = QHBoxLayout()
        buttons.addWidget(restore)
        buttons.addWidget(purge)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(muted("Deleted runs stay here, with their models, until you delete them for good."))
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for run in self.store.trashed_runs():
            item = QListWidgetItem(f"{run.name} — {run.variant} on {run.dataset or '?'} ({run.status})")
            item.setData(256, run)
            self.list.addItem(item)

    def _selected(self) -> list[Run]:
        return [item.data(256) for item in self.list.selectedItems()]

    def restore(self) -> None:
        runs = self._selected()
        for run in runs:
            self.store.restore(run.id)
            if run.id not in self.runs:
                self.runs.add(self.store.get_run(run.id))
        self.reload()
        if runs:
            self.restored.emit(len(runs))

    def purge(self) -> None:
        runs = self._selected()
        if not runs:
            return
        if QMessageBox.question(self, "Delete for good?", f"Delete {len(runs)} run(s) and their model files? "
                                "This cannot be undone.") != QMessageBox.StandardButton.Yes:
            return
        for run in runs:
            self.store.purge(run.id)
        self.reload()
        self.purged.emit(len(runs))
