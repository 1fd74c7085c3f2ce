"""A run's life in the window: the run store opened at start, a run created, trained, recorded and
finished; a stored run's model and test set loaded back when its views need them.

Runs live in the Runs model (core/runs/evented_runs.py) that the widgets observe, and in the run store
(core/runs/store.py) that keeps them across sessions; ui/store_bridge.py translates between the two.
The pad's model is ui/pad_model.py; renaming, notes and the trash are ui/run_editing.py.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.runs.evented_runs import Run, Runs, now_iso
from lstm_desktop.core.runs.store import RunStore
from lstm_desktop.ui import store_bridge
from lstm_desktop.ui.live_view import LiveView
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.results_tab import ResultsTab
from lstm_desktop.ui.training_controller import TrainingController
from lstm_desktop.ui.widgets.banners import DataBanner

if TYPE_CHECKING:
    from lstm_desktop.core.models.checkpoint import Checkpoint
    from lstm_desktop.core.runs.recorder import Recording

log = logging.getLogger(__name__)

ShareImages = Callable[[str, "np.ndarray | None"], "np.ndarray | None"]


class RunLifecycle(QObject):
    runEnded = Signal(object)  # the Run whose training thread has ended (None: no run was live)

    def __init__(self, runs: Runs, training: TrainingController, live: LiveView, results: ResultsTab,
                 data_banner: DataBanner, messages: Messages, data_dir: Callable[[], str | None],
                 share_images: ShareImages, use_on_pad: Callable[[Run], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.training = training
        self.live_view = live  # the Train tab's observer of the run
        self.results = results
        self.data_banner = data_banner
        self.messages = messages
        self.share_images = share_images  # runs on the same test set share one array
        self.use_on_pad = use_on_pad  # the "Use Run N on the pad" offer when a run finishes
        self.store: RunStore | None = None  # the window's run store, once open
        self.live: Run | None = None
        self.recording: Recording | None = None  # the live run's record (its recorder and writer)
        self.watch = None  # ui/store_watch.StoreWatch, once the store is open
        self._session = None  # a session store, for runs the window's store cannot take
        self._recorded: dict[int, tuple[Recording | None, float | None]] = {}  # run id: (its Recording, when all written)
        training.outcomeReady.connect(self._on_outcome)
        training.runFailed.connect(self._on_failed)
        training.runFinished.connect(self._on_finished)
        from lstm_desktop.ui.run_views import TestSetLoader

        # a stored run's confusion cells, "All misclassified" and "Explain" need its test set back
        self.tests = TestSetLoader(runs, lambda run: store_bridge.absolute(self.store, run.checkpoint_path),
                                   data_dir, share_images, self)
        self.tests.failed.connect(self._on_test_set_failed)
        results.runs_panel.currentRunChanged.connect(self._on_run_selected)

    # ---- the store ----------------------------------------------------------------------------
    def open_store(self) -> None:
        try:
            self.store, notice = store_bridge.open_store()
        except (LstmDesktopError, OSError) as exc:  # not even a session store: runs are not recorded
            self.store, notice = None, f"Runs cannot be recorded: {getattr(exc, 'message', exc)}"
        if notice:
            self.messages.show_error(notice, "Your models are untouched.", "warning")
        if self.store is not None:
            model = self.results.runs_panel.model
            model.begin_bulk()
            try:
                for run in store_bridge.load_runs(self.store):
                    self.runs.add(run)
            finally:
                model.end_bulk()
            self.results.set_store(self.store)  # best epochs of every run, curves and pins
            from lstm_desktop.ui.store_watch import StoreWatch

            # runs the CLI or another window adds or changes appear here too
            self.watch = StoreWatch(self.store.path, self.runs, skip=self._is_recording, parent=self)
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

    def stop_watching(self) -> None:
        if self.watch is not None:
            self.watch.stop()

    def close(self) -> None:
        self.stop_watching()
        if self.recording is not None:
            self.recording.close()
            self.recording = None

    def new_run(self, name: str | None, config: TrainConfig | None, **fields: Any) -> Run:
        run_id = store_bridge.add_opened(self.store, name, config, fields) \
            if fields.get("source") == "opened" and self.store is not None else None
        run_id = run_id or self.runs.next_id()
        run = Run(run_id, name or "", config=config, created=now_iso(), **fields)
        return self.runs.add(run)

    def checkpoint_of(self, run: Run | None) -> Checkpoint | None:
        """The run's model (loaded from its file on first use), or None."""
        if run is None:
            return None
        ckpt = run.extra.get("checkpoint")
        if ckpt is None and run.checkpoint_path:
            from lstm_desktop.core.models.checkpoint import load_checkpoint

            try:
                ckpt = load_checkpoint(store_bridge.absolute(self.store, run.checkpoint_path))
            except LstmDesktopError as exc:
                self.messages.show_error(f"{run.name}'s model cannot be opened: {exc.message}", exc.hint)
                return None
            run.extra["checkpoint"] = ckpt
        return ckpt

    # ---- training -----------------------------------------------------------------------------
    def start(self, config: TrainConfig, download: bool, callbacks=(), control=None,
              probe: Callable[[], Any] | None = None) -> Run | None:
        """Record and train a new run; probe: what the pad shows now, scored after each epoch."""
        self.recording = self._open_recording(config)
        if self.recording is None:
            return None
        run = self.recording.run
        self._recorded[run.id] = (self.recording, None)
        observers = [self.live_view, *self.recording.callbacks]  # the recorder alone turns events into the Run
        self.live = run
        self.live_view.show_run(run)
        run_dir = str(self.recording.run_dir)
        self.training.start(config, observers, probe=probe, download=download, callbacks=callbacks, control=control,
                            run_dir=run_dir)
        self.results.runs_panel.select(run.id)
        self.messages.set_status(f"{run.name}: loading {config.dataset}…")
        return run

    def _open_recording(self, config: TrainConfig) -> Recording | None:
        """The new run's recording: in the window's store, else (locked or broken) in a session store."""
        try:
            if self.store is None:
                raise LstmDesktopError("There is no run store.", "")
            return store_bridge.open_recording(self.store, config, self.runs)
        except LstmDesktopError as exc:  # train anyway, say so
            self.messages.show_error(f"This run will not be kept: {exc.message}", exc.hint, "warning")
        try:
            if self._session is None:
                self._session = store_bridge.session_store()
            return store_bridge.open_recording(self._session, config, self.runs, run_id=self.runs.next_id())
        except (LstmDesktopError, OSError) as exc:
            self.messages.show_error(f"Cannot record a run anywhere: {getattr(exc, 'message', exc)}",
                                     "Free some disk space in the temporary folder, then train again.")
            return None

    def _on_outcome(self, outcome) -> None:
        run = self.live
        if run is None:
            return
        if outcome.fit.epochs_completed:
            run.extra["checkpoint"] = outcome.checkpoint
        if outcome.test_predictions is not None:
            run.extra.update(test_images=self.share_images(outcome.data_name, outcome.test_images),
                             test_labels=outcome.test_labels, test_predictions=outcome.test_predictions)
        self.runs.touch(run, "extra")
        fit = outcome.fit
        if run.metrics is not None and fit.failure is None:
            what = "stopped early" if fit.stopped else "finished"
            from lstm_desktop.ui.widgets.model_selector import reads_drawings

            offer = (f"Use {run.name} on the pad", lambda _=False, r=run: self.use_on_pad(r)) \
                if reads_drawings(run) else None
            self.messages.show_error(
                f"{run.name} {what}: test accuracy {run.metrics.accuracy * 100:.2f}%, macro F1 "
                f"{run.metrics.f1:.4f} ({fit.epochs_completed} epoch{'s' if fit.epochs_completed != 1 else ''}, "
                f"{fit.train_samples_per_second:,.0f} samples/s).",
                "The Results tab has the per-class scores and the confusion matrix; the run and its model are kept.",
                "success", action=offer)

    def _on_failed(self, message: str, hint: str) -> None:
        if self.recording is not None and not self.recording.recorder.ended:  # the run raised before its end
            from lstm_desktop.core.training.events import RunEnded

            self.recording.recorder.on_run_end(RunEnded("failed", message, hint))  # its final status
        if "MNIST" in message and self.data_banner.isVisible():
            self.data_banner.show_error(message, hint)
        self.messages.show_error(message, hint)

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
        if run is not None:
            self.messages.notice(f"{run.name} {run.status}", state="Ready")
        self.runEnded.emit(run)

    # ---- a stored run's test set ----------------------------------------------------------------
    def _on_run_selected(self, run_id: int) -> None:
        run = self.runs.get(run_id)
        if self.tests.ensure(run):
            self.results.metrics_view.gallery.clear(f"Loading {run.dataset}'s test images to score {run.name} again…")

    def _on_test_set_failed(self, run_id: int, why: str) -> None:
        if run_id in self.results.runs_panel.selected_ids():
            self.results.metrics_view.gallery.clear(f"The test images could not be loaded: {why}")
        self.messages.notice(f"Could not load the test images of run {run_id}: {why}")
