"""File > Export model as ONNX… and File > Export run data…: the window's side of core/models/onnx_export.py and
core/runs/run_data.py, the same functions `lstm-desktop runs export --format onnx` and `runs export-data` call.

The ONNX export (and its check with onnxruntime over the test set, seconds on MNIST) runs on a
worker thread; the window says "Exported" only after the check passed. Without the optional
extras it says in one line how to install them, and nothing else happens.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.results_tab import ResultsTab
from lstm_desktop.ui.run_lifecycle import RunLifecycle
from lstm_desktop.ui.widgets.config_panel import ConfigPanel
from lstm_desktop.ui.window_settings import WindowSettings
from lstm_desktop.ui.worker import GuiRelay, TaskWorker, WorkerThread

ONNX_FILTER = "ONNX model (*.onnx)"
DATA_FILTERS = {"csv": "CSV, one row per run and epoch (*.csv)", "json": "JSON, one object per run (*.json)"}


class ExportActions(QObject):
    onnxExported = Signal(object)  # core.onnx_export.OnnxExport, once checked and written
    onnxFailed = Signal(str, str)  # message, hint

    def __init__(self, runs: Runs, lifecycle: RunLifecycle, results: ResultsTab, config_panel: ConfigPanel,
                 prefs: WindowSettings, messages: Messages, tasks: list[WorkerThread],
                 thread_ended: Callable[[], None], dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.runs = runs
        self.lifecycle = lifecycle  # a run's model, and the store the run data is read from
        self.results = results  # the runs chosen there are the ones exported
        self.config_panel = config_panel  # the data folder the ONNX check scores from
        self.prefs = prefs  # the last folder used
        self.messages = messages
        self.tasks = tasks  # the window's file jobs: it waits for them before closing
        self.thread_ended = thread_ended
        self.dialog_parent = dialog_parent

    def _last_dir(self) -> str:
        return self.prefs.text("files/last_dir", str(Path.home()))

    def _remember_dir(self, path: str | Path) -> None:
        self.prefs.qs.setValue("files/last_dir", str(Path(path).parent))

    def _chosen_run(self, run_id: int | None) -> Run | None:
        return self.runs.get(run_id) if run_id is not None else self.results.runs_panel.current()

    # ---- ONNX ---------------------------------------------------------------------------------
    def export_onnx(self, run_id: int | None = None, path: str | Path | None = None) -> WorkerThread | None:
        """Export the run's model as ONNX on a worker thread; None when nothing was started."""
        from lstm_desktop.core.models.onnx_export import MissingExtra, require_extras

        try:
            require_extras()
        except MissingExtra as exc:
            self.messages.show_error(exc.message, exc.hint, "warning")
            return None
        run = self._chosen_run(run_id)
        ckpt = self.lifecycle.checkpoint_of(run) if run is not None and not run.status.active else None
        if ckpt is None:
            self.messages.show_error("There is no trained model to export yet.",
                              "Select a finished run in Results (or open a model), then export it.", "warning")
            return None
        if path is None:
            stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{run.variant}-{run.dataset}").strip("-").lower() or "model"
            path, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Export model as ONNX",
                                                  str(Path(self._last_dir()) / f"{stem}.onnx"), ONNX_FILTER)
            if not path:
                return None
            if not Path(path).suffix:
                path += ".onnx"
        return self._start_onnx(run, ckpt, Path(path))

    def _start_onnx(self, run: Run, ckpt, path: Path) -> WorkerThread:
        from lstm_desktop.core.drawing.inference import inference_copy

        model = inference_copy(ckpt)  # the pad may use the original meanwhile
        data_dir = self.config_panel.values()["data_dir"]
        about = {"id": run.id, "name": run.name, "variant": run.variant}
        dataset = run.dataset or None

        def task(control, progress):
            from dataclasses import replace

            from lstm_desktop.core.training.evaluate import dataset_of
            from lstm_desktop.core.models.onnx_export import export_onnx

            copy = replace(ckpt, model=model)
            return export_onnx(copy, path, dataset or dataset_of(copy), data_dir=data_dir, run=about)

        self.messages.notice(f"Exporting {run.name} as ONNX and checking it with onnxruntime…", hold=True)
        worker = TaskWorker(task, "ONNX export")
        worker.succeeded.connect(self._on_exported)
        worker.failed.connect(GuiRelay(self._on_failed, self).call)
        job = WorkerThread(worker, "lstm-desktop-onnx-export")
        job.thread.finished.connect(lambda j=job: self._on_thread_finished(j))
        self.tasks.append(job)  # the window waits for it before closing
        job.start()
        return job

    def _on_exported(self, done) -> None:
        self._remember_dir(done.path)
        self.messages.hide_error()
        text = done.message("the model")
        self.messages.notice(text[0].upper() + text[1:])
        self.onnxExported.emit(done)

    def _on_failed(self, message: str, hint: str) -> None:
        self.messages.show_error(f"ONNX export failed: {message}", hint)
        self.onnxFailed.emit(message, hint)

    def _on_thread_finished(self, job: WorkerThread) -> None:
        job.release()
        if job in self.tasks:
            self.tasks.remove(job)
        self.thread_ended()

    # ---- run data -----------------------------------------------------------------------------
    def export_run_data(self, path: str | Path | None = None, fmt: str | None = None,
                        selected_only: bool | None = None) -> Path | None:
        """Write the selected runs' (or every run's) curves and results as CSV or JSON."""
        from lstm_desktop.core.runs.run_data import write_run_data

        selected = self.results.selected_runs()
        if selected_only is None:
            selected_only = bool(selected)
        runs = selected if selected_only else list(self.runs)
        if not runs:
            self.messages.show_error("There are no runs to export yet.", "Train a model or open one first.", "warning")
            return None
        if path is None:
            order = [fmt] if fmt else ["csv", "json"]
            what = "selected-runs" if selected_only else "runs"
            path, chosen = QFileDialog.getSaveFileName(self.dialog_parent, f"Export {len(runs)} run{'s' * (len(runs) != 1)}' data",
                                                       str(Path(self._last_dir()) / f"{what}.{order[0]}"),
                                                       ";;".join(DATA_FILTERS[k] for k in order))
            if not path:
                return None
            if not Path(path).suffix:
                path += ".json" if "json" in chosen.lower() else ".csv"
        path = Path(path)
        fmt = fmt or ("json" if path.suffix.lower() == ".json" else "csv")
        try:
            written = write_run_data(self.lifecycle.store, runs, fmt, path)
        except (OSError, LstmDesktopError) as exc:
            self.messages.show_error(getattr(exc, "message", None) or f"Could not write {path}: {exc}.",
                              getattr(exc, "hint", "") or "Choose another folder or file name.")
            return None
        self._remember_dir(path)
        self.messages.notice(f"Exported {len(runs):,} run{'s' * (len(runs) != 1)} to {written}")
        return written
