"""A run's life in the window: created (in the run store when there is one), trained, finished,
offered to the pad, renamed, annotated, deleted and restored; and "Compare cells", a queue of runs.

Runs live in the Runs model (core/runs/evented_runs.py) that the widgets observe, and in the run store
(core/runs/store.py) that keeps them across sessions; ui/store_bridge.py translates between the two.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow  # the main window (ui/main_window.py), typed loosely: no cycle

import logging
import time
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.runs.evented_runs import Run, now_iso
from lstm_desktop.ui import store_bridge


log = logging.getLogger(__name__)


class RunLifecycle(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.live: Run | None = None
        self.recording = None
        self.queue: list[TrainConfig] = []
        self.pad_run: Run | None = None
        self.watch = None  # ui/store_watch.StoreWatch, once the store is open
        self._session = None  # a session store, for runs the window's store cannot take
        self._recorded: dict[int, tuple[Any, float | None]] = {}  # run id: (its Recording, when all written)
        w = window
        w.training.outcomeReady.connect(self._on_outcome)
        w.training.runFailed.connect(self._on_failed)
        w.training.runFinished.connect(self._on_finished)
        panel = w.results.runs_panel
        panel.saveRequested.connect(lambda rid: w.save_run(rid))
        panel.copyCommandRequested.connect(w.copy_command)
        panel.usePadRequested.connect(lambda rid: self.use_on_pad(w.runs.get(rid), switch=True))
        panel.deleteRequested.connect(self.delete_runs)
        panel.notesRequested.connect(self.edit_notes)
        panel.trashRequested.connect(self.show_trash)
        panel.model.renamed.connect(self.rename)
        w.runs.events.removed.connect(self._on_removed)
        from lstm_desktop.ui.run_views import TestSetLoader

        # a stored run's confusion cells, "All misclassified" and "Explain" need its test set back
        self.tests = TestSetLoader(w.runs, lambda run: store_bridge.absolute(w.store, run.checkpoint_path),
                                   lambda: w.config_panel.values().get("data_dir"), w.shared_test_images, self)
        self.tests.failed.connect(self._on_test_set_failed)
        panel.currentRunChanged.connect(self._on_run_selected)

    # ---- the store ----------------------------------------------------------------------------
    def open_store(self) -> None:
        try:
            self.w.store, notice = store_bridge.open_store()
        except (LstmDesktopError, OSError) as exc:  # not even a session store: runs are not recorded
            self.w.store, notice = None, f"Runs cannot be recorded: {getattr(exc, 'message', exc)}"
        if notice:
            self.w.show_error(notice, "Your models are untouched.", "warning")
        if self.w.store is not None:
            model = self.w.results.runs_panel.model
            model.begin_bulk()
            try:
                for run in store_bridge.load_runs(self.w.store):
                    self.w.runs.add(run)
            finally:
                model.end_bulk()
            self.w.results.set_store(self.w.store)  # best epochs of every run, curves and pins
            from lstm_desktop.ui.store_watch import StoreWatch

            # runs the CLI or another window adds or changes appear here too
            self.watch = StoreWatch(self.w.store.path, self.w.runs, skip=self._is_recording, parent=self)
            self.w.closed.connect(self.watch.stop)
            self.watch.start()

    def _is_recording(self, run_id: int, read_at: float) -> bool:
        """This window writes the run itself and the store may lag behind what it shows: while it
        trains, and for reads begun before its queued writes were all seen in the store."""
        if self.live is not None and self.live.id == run_id:
            return True
        entry = self._recorded.get(run_id)
        if entry is None:
            return False
        recording, done_at = entry
        if done_at is None:  # its last writes waited for a locked store: skip until they are in
            if not recording.recorder.writer.pending:
                self._recorded[run_id] = (None, time.monotonic())
            return True
        return read_at < done_at

    def close(self) -> None:
        if self.watch is not None:
            self.watch.stop()
        if self.recording is not None:
            self.recording.close()
            self.recording = None

    def new_run(self, name: str | None, config: TrainConfig | None, **fields: Any) -> Run:
        run_id = store_bridge.add_opened(self.w.store, name, config, fields) \
            if fields.get("source") == "opened" and self.w.store is not None else None
        run_id = run_id or self.w.runs.next_id()
        run = Run(run_id, name or "", config=config, created=now_iso(), **fields)
        return self.w.runs.add(run)

    def checkpoint_of(self, run: Run | None):
        """The run's model (loaded from its file on first use), or None."""
        if run is None:
            return None
        ckpt = run.extra.get("checkpoint")
        if ckpt is None and run.checkpoint_path:
            from lstm_desktop.core.models.checkpoint import load_checkpoint
            from lstm_desktop.core.errors import LstmDesktopError

            try:
                ckpt = load_checkpoint(store_bridge.absolute(self.w.store, run.checkpoint_path))
            except LstmDesktopError as exc:
                self.w.show_error(f"{run.name}'s model cannot be opened: {exc.message}", exc.hint)
                return None
            run.extra["checkpoint"] = ckpt
        return ckpt

    # ---- training -----------------------------------------------------------------------------
    def start(self, config: TrainConfig, download: bool, callbacks=(), control=None) -> Run | None:
        w = self.w
        self.recording = self._open_recording(config)
        if self.recording is None:
            return None
        run = self.recording.run
        self._recorded[run.id] = (self.recording, None)
        observers = [w.live, *self.recording.callbacks]  # the recorder alone turns events into the Run
        self.live = run
        w.live.show_run(run)
        probe = w.pad_panel.probe.get if w.pad_panel is not None else None
        run_dir = str(self.recording.run_dir)
        w.training.start(config, observers, probe=probe, download=download, callbacks=callbacks, control=control,
                         run_dir=run_dir)
        w.results.runs_panel.select(run.id)
        w.set_status(f"{run.name}: loading {config.dataset}…")
        return run

    def _open_recording(self, config: TrainConfig):
        """The new run's recording: in the window's store, else (locked or broken) in a session store."""
        w = self.w
        try:
            if w.store is None:
                raise LstmDesktopError("There is no run store.", "")
            return store_bridge.open_recording(w.store, config, w.runs)
        except LstmDesktopError as exc:  # train anyway, say so
            w.show_error(f"This run will not be kept: {exc.message}", exc.hint, "warning")
        try:
            if self._session is None:
                self._session = store_bridge.session_store()
            return store_bridge.open_recording(self._session, config, w.runs, run_id=w.runs.next_id())
        except (LstmDesktopError, OSError) as exc:
            w.show_error(f"Cannot record a run anywhere: {getattr(exc, 'message', exc)}",
                         "Free some disk space in the temporary folder, then train again.")
            return None

    def _on_outcome(self, outcome) -> None:
        run = self.live
        if run is None:
            return
        if outcome.fit.epochs_completed:
            run.extra["checkpoint"] = outcome.checkpoint
        if outcome.test_predictions is not None:
            run.extra.update(test_images=self.w.shared_test_images(outcome.data_name, outcome.test_images),
                             test_labels=outcome.test_labels, test_predictions=outcome.test_predictions)
        self.w.runs.touch(run, "extra")
        fit = outcome.fit
        if run.metrics is not None and fit.failure is None:
            what = "stopped early" if fit.stopped else "finished"
            from lstm_desktop.ui.widgets.model_selector import reads_drawings

            offer = (f"Use {run.name} on the pad", lambda _=False, r=run: self.use_on_pad(r, switch=True)) \
                if reads_drawings(run) else None
            self.w.show_error(f"{run.name} {what}: test accuracy {run.metrics.accuracy * 100:.2f}%, macro F1 "
                              f"{run.metrics.f1:.4f} ({fit.epochs_completed} epoch"
                              f"{'s' if fit.epochs_completed != 1 else ''}, "
                              f"{fit.train_samples_per_second:,.0f} samples/s).",
                              "The Results tab has the per-class scores and the confusion matrix; the run and "
                              "its model are kept.", "success", action=offer)

    def _on_failed(self, message: str, hint: str) -> None:
        run = self.live
        if self.recording is not None and not self.recording.recorder.ended:  # the run raised before its end
            from lstm_desktop.core.training.events import RunEnded

            self.recording.recorder.on_run_end(RunEnded("failed", message, hint))  # its final status
        if "MNIST" in message and self.w.data_banner.isVisible():
            self.w.data_banner.show_error(message, hint)
        self.w.show_error(message, hint)

    def _on_finished(self) -> None:
        run, self.live = self.live, None
        if self.recording is not None:
            recorder = self.recording.recorder
            if not recorder.ended:  # the thread ended without the run's end: say how it ended, once
                from lstm_desktop.core.training.events import RunEnded

                recorder.on_run_end(RunEnded("stopped" if self.recording.run.epochs_done == 0 else "finished"))
            self.recording.close()
            if not self.recording.recorder.writer.pending:  # all in the store: later reads are current
                self._recorded[self.recording.run_id] = (None, time.monotonic())
            self.recording = None
        w = self.w
        if run is not None:
            w.set_status(f"{run.name} {run.status}")
        w.refresh_state()
        w.data.check()
        if run is not None:
            w.trainingFinished.emit(run.id)
        w.maybe_finish_close()
        if self.queue and not w._close_pending:
            w.start_training(self.queue.pop(0))

    def compare_cells(self) -> None:
        """Train RNN, GRU and LSTM with the form's settings, one after another; select them together."""
        try:
            base = self.w.config_panel.config()
        except Exception as exc:  # noqa: BLE001 - the form shows why
            self.w.show_error(str(getattr(exc, "message", exc)))
            return
        if self.w.training.is_training():
            self.w.show_error("A run is training.", "Wait for it to end, or stop it, then compare cells.", "warning")
            return
        configs = [base.replace(cell=c) for c in ("rnn", "gru", "lstm")]
        self.queue = configs[1:]
        first = self.w.start_training(configs[0])
        if first is None:
            self.queue = []

    def confirm_quit_while_training(self) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Quit while training?",
                          "A run is training. Stop it and quit? Its last finished epoch is kept.",
                          parent=self.w)
        box.setObjectName("quitWhileTrainingBox")
        stop = box.addButton("Stop and quit", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep training", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stop)
        if getattr(self.w, "assume_yes", False):
            return True
        box.exec()
        return box.clickedButton() is stop

    # ---- the pad's model ----------------------------------------------------------------------
    def use_on_pad(self, run: Run | None, switch: bool = False) -> None:
        w = self.w
        if run is None:
            ckpt = w.shipped_checkpoint
            label = "Shipped model" if ckpt is not None else "No model yet: train one or open a model (Ctrl+O)"
        else:
            ckpt = self.checkpoint_of(run)
            label = run.label
            if ckpt is None:
                return
        self.pad_run = run
        # remembered for the next start (the run's creation time guards against a reused id)
        w.prefs.qs.setValue("pad/run", f"{run.id} {run.created}" if run is not None else "")
        w.model_label.setText(f"Model: {label}")
        if w.draw is not None:
            w.draw.set_model(ckpt, label)
            w.draw.model_selector.show_current(run.id if run is not None else -1)
        if switch:
            w.tabs.setCurrentIndex(2)

    def restore_pad_model(self) -> None:
        """At start: the model the pad read with last time (an adapted one too) when its run is still
        kept with a model that reads drawings; else the shipped model."""
        from lstm_desktop.ui.widgets.model_selector import reads_drawings

        rid, _, created = self.w.prefs.text("pad/run").partition(" ")
        run = self.w.runs.get(int(rid)) if rid.isdigit() else None
        if run is not None and run.created == created and reads_drawings(run) and self.checkpoint_of(run) is not None:
            self.use_on_pad(run)
        else:
            self.use_on_pad(None)

    def _on_run_selected(self, run_id: int) -> None:
        run = self.w.runs.get(run_id)
        if self.tests.ensure(run):
            self.w.metrics_view.gallery.clear(f"Loading {run.dataset}'s test images to score {run.name} again…")

    def _on_test_set_failed(self, run_id: int, why: str) -> None:
        if run_id in self.w.runs_panel.selected_ids():
            self.w.metrics_view.gallery.clear(f"The test images could not be loaded: {why}")
        self.w.set_status(f"Could not load the test images of run {run_id}: {why}")

    def _on_removed(self, run: Run) -> None:
        if self.pad_run is run:  # trashed here or by another process: the pad goes back to the shipped model
            self.use_on_pad(None)

    # ---- editing ------------------------------------------------------------------------------
    def rename(self, run_id: int, name: str) -> None:
        run = self.w.runs.get(run_id)
        if run is not None:
            store_bridge.rename(self.w.store, run_id, name)
            self.w.runs.update(run, name=name)

    def edit_notes(self, run_id: int) -> None:
        from lstm_desktop.ui.run_dialogs import NotesDialog

        run = self.w.runs.get(run_id)
        if run is None:
            return
        dialog = NotesDialog(run, self.w)
        if dialog.exec():
            notes, tags = dialog.values()
            store_bridge.annotate(self.w.store, run_id, notes, tags)
            self.w.runs.update(run, notes=notes, tags=tags)

    def delete_runs(self, ids: list[int], confirm: bool = True) -> int:
        runs = [r for r in (self.w.runs.get(i) for i in ids) if r is not None and not r.status.active]
        if not runs:
            return 0
        if confirm and not getattr(self.w, "assume_yes", False):
            names = ", ".join(r.name for r in runs[:5]) + ("…" if len(runs) > 5 else "")
            answer = QMessageBox.question(self.w, "Delete runs?",
                                          f"Move {len(runs)} run{'s' if len(runs) > 1 else ''} ({names}) and "
                                          "their models to the trash? You can restore them from Trash….")
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        for run in runs:
            store_bridge.trash(self.w.store, run.id)
            self.w.runs.remove(run.id)
        self.w.set_status(f"Moved {len(runs)} run{'s' if len(runs) > 1 else ''} to the trash (Results › Trash… "
                          "restores them)")
        return len(runs)

    def show_trash(self) -> None:
        from lstm_desktop.ui.run_dialogs import TrashDialog

        if self.w.store is None or store_bridge.is_temporary(self.w.store):
            self.w.show_error("There is no run store, so there is no trash.", "", "warning")
            return
        TrashDialog(self.w).exec()
