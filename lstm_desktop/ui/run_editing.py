"""What the user does to kept runs from the Results tab: rename, notes and tags, copy the command
that trains it again, move to the trash and restore; and the question before quitting a training."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from lstm_desktop.core.runs.evented_runs import Runs
from lstm_desktop.core.runs.store import RunStore
from lstm_desktop.ui import store_bridge
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.widgets.runs_panel import RunsPanel


class RunEditor(QObject):
    def __init__(self, runs: Runs, panel: RunsPanel, store: Callable[[], RunStore | None], messages: Messages,
                 assume_yes: Callable[[], bool], dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.runs = runs
        self.store = store  # the window's run store, once open (None: runs are not kept)
        self.messages = messages
        self.assume_yes = assume_yes  # automation: every question answered yes
        self.dialog_parent = dialog_parent
        panel.copyCommandRequested.connect(self.copy_command)
        panel.deleteRequested.connect(self.delete_runs)
        panel.notesRequested.connect(self.edit_notes)
        panel.trashRequested.connect(self.show_trash)
        panel.model.renamed.connect(self.rename)

    def rename(self, run_id: int, name: str) -> None:
        run = self.runs.get(run_id)
        if run is not None:
            store_bridge.rename(self.store(), run_id, name)
            self.runs.update(run, name=name)

    def edit_notes(self, run_id: int) -> None:
        from lstm_desktop.ui.run_dialogs import NotesDialog

        run = self.runs.get(run_id)
        if run is None:
            return
        dialog = NotesDialog(run, self.dialog_parent)
        if dialog.exec():
            notes, tags = dialog.values()
            store_bridge.annotate(self.store(), run_id, notes, tags)
            self.runs.update(run, notes=notes, tags=tags)

    def copy_command(self, run_id: int, torchrun: bool = False) -> str:
        """The command line that trains the run again (or with torchrun), on the clipboard."""
        from lstm_desktop.core.training.commands import torchrun_command, train_command

        run = self.runs.get(run_id)
        if run is None or run.config is None:
            return ""
        command = torchrun_command(run.config) if torchrun else train_command(run.config)
        QApplication.clipboard().setText(command)
        self.messages.notice(f"Copied: {command}")
        return command

    def delete_runs(self, ids: list[int], confirm: bool = True) -> int:
        runs = [r for r in (self.runs.get(i) for i in ids) if r is not None and not r.status.active]
        if not runs:
            return 0
        if confirm and not self.assume_yes():
            answer = QMessageBox.question(self.dialog_parent, "Delete runs?", delete_question([r.name for r in runs]))
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        for run in runs:
            store_bridge.trash(self.store(), run.id)
            self.runs.remove(run.id)
        self.messages.notice(trashed_status(len(runs)))
        return len(runs)

    def show_trash(self) -> None:
        from lstm_desktop.ui.run_dialogs import TrashDialog

        store = self.store()
        if store is None or store_bridge.is_temporary(store):
            self.messages.show_error("There is no run store, so there is no trash.", "", "warning")
            return
        dialog = TrashDialog(store, self.runs, self.dialog_parent)
        dialog.restored.connect(lambda n: self.messages.notice(restored_status(n)))
        dialog.purged.connect(lambda n: self.messages.notice(f"Deleted {n} run{'s' * (n != 1)} for good"))
        dialog.exec()


def quit_question(epochs_done: int) -> str:
    """What stopping now keeps: before the first epoch ends, no model at all."""
    kept = "Its last finished epoch is kept." if epochs_done > 0 else \
        "No epoch has finished yet, so it will have no model."
    return f"A run is training. Stop it and quit? {kept}"


def confirm_quit_while_training(parent: QWidget, assume_yes: bool, epochs_done: int = 1) -> bool:
    """'A run is training. Stop it and quit?'; True when the answer is yes."""
    box = QMessageBox(QMessageBox.Icon.Question, "Quit while training?", quit_question(epochs_done), parent=parent)
    box.setObjectName("quitWhileTrainingBox")
    stop = box.addButton("Stop and quit", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Keep training", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stop)
    if assume_yes:
        return True
    box.exec()
    return box.clickedButton() is stop


def delete_question(names: list[str]) -> str:
    """The question before runs go to the trash, in the singular for one run."""
    shown = ", ".join(names[:5]) + ("…" if len(names) > 5 else "")
    if len(names) == 1:
        return f"Move {shown} and its model to the trash? You can restore it from Results › Trash…"
    return f"Move {len(names)} runs ({shown}) and their models to the trash? You can restore them from " \
           "Results › Trash…"


def trashed_status(count: int) -> str:
    """The status line after runs went to the trash, in the singular for one run."""
    if count == 1:
        return "Moved 1 run to the trash (Results › Trash… restores it)"
    return f"Moved {count} runs to the trash (Results › Trash… restores them)"


def restored_status(count: int) -> str:
    """The status line after runs came back from the trash (it replaces 'Moved … to the trash')."""
    return f"Restored {count} run{'s' * (count != 1)} from the trash"
