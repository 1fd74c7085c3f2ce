"""Files the user opens and writes from the window: models (open, score, export) and curves.

Opening a model lists it as a run and scores it on its test set on a worker thread with
core.evaluate.score_checkpoint, the function `lstm-desktop evaluate` uses. Every failure is a
message in the window, never a traceback.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.runs.evented_runs import Run, Runs, RunStatus
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.pad_model import PadModel
from lstm_desktop.ui.results_tab import ResultsTab
from lstm_desktop.ui.run_lifecycle import RunLifecycle
from lstm_desktop.ui.widgets.config_panel import ConfigPanel
from lstm_desktop.ui.window_settings import WindowSettings
from lstm_desktop.ui.worker import GuiRelay, TaskWorker, WorkerThread

if TYPE_CHECKING:
    from lstm_desktop.ui.widgets.live_plots import LivePlots


log = logging.getLogger(__name__)
MODEL_FILTER = "lstm-desktop model (*.pt)"


class FileActions(QObject):
    evaluationFinished = Signal(int)  # run id of an opened model scored on its test set

    def __init__(self, runs: Runs, lifecycle: RunLifecycle, pad_model: PadModel, results: ResultsTab,
                 config_panel: ConfigPanel, prefs: WindowSettings, messages: Messages, is_ready: Callable[[], bool],
                 thread_ended: Callable[[], None], dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.runs = runs
        self.lifecycle = lifecycle  # lists an opened model as a run; reads a run's model
        self.pad_model = pad_model  # an opened model is offered on the pad
        self.results = results  # the run chosen there is the one exported
        self.config_panel = config_panel  # the data folder an opened model is scored from
        self.prefs = prefs  # the last folder used
        self.messages = messages
        self.is_ready = is_ready
        self.thread_ended = thread_ended  # the window may be waiting for a scoring or export thread to close
        self.dialog_parent = dialog_parent
        self.plots: LivePlots | None = None  # the Train tab's curves, once start-up has loaded them
        self.tasks: list[WorkerThread] = []
        from lstm_desktop.ui.export_actions import ExportActions

        # ONNX and run data (File > Export …)
        self.exports = ExportActions(runs, lifecycle, results, config_panel, prefs, messages, self.tasks,
                                     thread_ended, dialog_parent)
        results.runs_panel.saveRequested.connect(lambda rid: self.save_run(rid))

    def export_onnx(self, run_id: int | None = None, path: str | Path | None = None) -> WorkerThread | None:
        """File > Export model as ONNX…: checked with onnxruntime on a worker thread (ui/export_actions.py)."""
        return self.exports.export_onnx(run_id, path)

    def export_run_data(self, path: str | Path | None = None, fmt: str | None = None,
                        selected_only: bool | None = None) -> Path | None:
        """File > Export run data…: the selected runs (or all) as CSV or JSON."""
        return self.exports.export_run_data(path, fmt, selected_only)

    def _last_dir(self) -> str:
        return self.prefs.text("files/last_dir", str(Path.home()))

    def _remember_dir(self, path: str | Path) -> None:
        self.prefs.qs.setValue("files/last_dir", str(Path(path).parent))

    # ---- models -------------------------------------------------------------------------------
    def save_run(self, run_id: int | None = None, path: str | Path | None = None) -> Path | None:
        """Export a run's model (the current run by default) to a file."""
        from lstm_desktop.core.models.checkpoint import save_checkpoint

        run = self.runs.get(run_id) if run_id is not None else self.results.runs_panel.current()
        if run is None:
            done = [r for r in self.runs if (r.extra.get("checkpoint") or r.checkpoint_path) and not r.status.active]
            run = done[-1] if done else None
        ckpt = self.lifecycle.checkpoint_of(run) if run is not None else None
        if ckpt is None:
            self.messages.show_error("There is no trained model to export yet.", "Train a model first, or open one.",
                              "warning")
            return None
        if path is None:
            acc = f"-{run.metrics.accuracy * 100:.1f}" if run.metrics is not None else ""
            stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{run.variant}-{run.dataset}").strip("-").lower()
            suggestion = str(Path(self._last_dir()) / f"{stem}{acc}.pt")
            path, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Export model", suggestion, MODEL_FILTER)
            if not path:
                return None
        try:
            saved = save_checkpoint(path, ckpt)
        except (OSError, LstmDesktopError) as exc:
            message = getattr(exc, "message", None) or f"Could not write {path}: {getattr(exc, 'strerror', None) or exc}."
            self.messages.show_error(message, getattr(exc, "hint", "") or "Choose another folder or file name.")
            return None
        self._remember_dir(saved)
        self.messages.notice(f"Exported {saved}")
        return Path(saved)

    def open_checkpoint(self, path: str | Path | None = None) -> Run | None:
        """Open a saved model: list it as a run, offer it to the pad, score it on its test set."""
        from lstm_desktop.core.models.checkpoint import load_checkpoint

        if not self.is_ready():
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Open model", self._last_dir(),
                                                  f"{MODEL_FILTER};;All files (*)")
            if not path:
                return None
        try:
            ckpt = load_checkpoint(path)
        except LstmDesktopError as exc:
            self.messages.show_error(exc.message, exc.hint)
            return None
        self._remember_dir(path)
        info = ckpt.info or {}
        history = {k: list(v) for k, v in (ckpt.history or {}).items()
                   if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v) and k != "gradient_flow"}
        flow = (ckpt.history or {}).get("gradient_flow")
        epochs_seen = float(len(history.get("epoch") or [])) or 1.0
        gradient_flow = [(epochs_seen, [float(x) for x in flow])] if isinstance(flow, list) and flow else []
        from lstm_desktop.core.training.evaluate import dataset_of

        spec = ckpt.spec
        variant = ckpt.config.variant_name if ckpt.config is not None else \
            f"{'Bi' if spec.bidirectional else ''}{spec.cell.upper()}{f' x{spec.layers}' if spec.layers > 1 else ''}" \
            f"{' + attention' if spec.attention else ''} ({spec.hidden})"
        run = self.lifecycle.new_run(Path(path).name, ckpt.config, source="opened", status=RunStatus.FINISHED, variant=variant,
                             dataset=dataset_of(ckpt), history=history, metrics=ckpt.metrics,
                             seconds=info.get("seconds"), samples_per_second=info.get("train_samples_per_second"),
                             device=str(info.get("device") or ""), checkpoint_path=str(path),
                             epochs_done=int(info.get("epochs") or len(history.get("epoch") or [])),
                             gradient_flow=gradient_flow, message="Scoring it on the test set…")
        run.extra["checkpoint"] = ckpt
        self.pad_model.use_on_pad(run)
        self.messages.hide_error()
        notes = getattr(ckpt, "notes", None)
        if notes:  # descriptive fields the loader had to drop (the weights themselves are fine)
            self.messages.show_error(f"Opened {Path(path).name}, but part of its description was damaged: {notes[0]}",
                              "The model itself is intact; its curves or scores may be missing.", "warning")
        self.messages.notice(f"Opened {path}")
        self._evaluate(run)
        return run

    def _evaluate(self, run: Run) -> None:
        from lstm_desktop.core.drawing.inference import inference_copy

        ckpt = run.extra["checkpoint"]
        model_copy = inference_copy(ckpt)  # the pad may use the original meanwhile
        data_dir = self.config_panel.values()["data_dir"]
        run_id = run.id

        def task(control, progress):
            from lstm_desktop.core.models.checkpoint import Checkpoint
            from lstm_desktop.core.training.evaluate import score_checkpoint

            scored = score_checkpoint(Checkpoint(model_copy, ckpt.spec, ckpt.config, info=ckpt.info),
                                      data_dir=data_dir, dataset=run.dataset or None, control=control)
            return run_id, scored

        worker = TaskWorker(task, "evaluation")
        worker.succeeded.connect(self._on_evaluated)
        # bound slots of GUI-thread objects only: a lambda connected to a worker's signal runs on the
        # worker's thread (its context is the sender), and must never touch the window
        worker.failed.connect(GuiRelay(lambda m, h, rid=run_id: self._on_failed(rid, m, h), self).call)
        job = WorkerThread(worker, "lstm-desktop-evaluation")
        job.thread.finished.connect(lambda j=job, rid=run_id: self._on_thread_finished(j, rid))
        self.tasks.append(job)
        job.start()

    def _on_evaluated(self, result) -> None:
        run_id, scored = result
        run = self.runs.get(run_id)
        if run is None or scored is None:
            return
        run.extra.update(test_images=self.lifecycle.share_images(run.dataset, scored.images),
                         test_labels=scored.labels, test_predictions=scored.predictions)
        self.runs.update(run, metrics=scored.metrics, dataset=scored.dataset, message="")
        self.messages.notice(f"Scored {run.name} on {len(scored.labels):,} test samples in {scored.seconds:.1f} s")

    def _on_failed(self, run_id: int, message: str, hint: str) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        self.runs.update(run, message=f"Not scored on the test set: {message} {hint}".strip())
        self.messages.notice(f"Could not score {run.name}: {message}")

    def _on_thread_finished(self, job: WorkerThread, run_id: int) -> None:
        job.release()
        if job in self.tasks:
            self.tasks.remove(job)
        self.evaluationFinished.emit(run_id)
        self.thread_ended()

    # ---- curves -------------------------------------------------------------------------------
    def export_curves(self, path: str | Path | None = None, kind: str | None = None) -> Path | None:
        """Write the curves on screen as CSV or PNG (chosen by `kind` or the file's extension)."""
        plots = self.plots
        if plots is None:
            return None
        if path is None:
            filters = {"csv": "CSV (*.csv)", "png": "PNG image (*.png)"}
            order = [kind] if kind else ["csv", "png"]
            suggestion = str(Path(self._last_dir()) / f"curves.{order[0]}")
            path, chosen = QFileDialog.getSaveFileName(self.dialog_parent, "Export curves", suggestion,
                                                       ";;".join(filters[k] for k in order))
            if not path:
                return None
            if not Path(path).suffix:
                path += ".png" if "png" in chosen.lower() else ".csv"
        path = Path(path)
        try:
            if path.suffix.lower() == ".png":
                plots.export_png(str(path))
            else:
                plots.export_csv(str(path))
        except OSError as exc:
            self.messages.show_error(f"Could not write {path}: {getattr(exc, 'strerror', None) or exc}.",
                              "Choose another folder or file name.")
            return None
        self._remember_dir(path)
        self.messages.notice(f"Exported {path}")
        return path
