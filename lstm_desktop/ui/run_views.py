"""What a stored run's views need that the store does not keep: its model, and its test images with
the model's predictions (the confusion matrix's cells, "All misclassified", "Explain").

After a restart a run is only its row and curves. When the Results tab shows one, its checkpoint is
read and scored on the test set of the dataset the run names, on a worker thread; the run's `extra`
then holds the images, labels and predictions, and `Runs.touch(run, "extra")` re-shows it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.ui.worker import GuiRelay, TaskWorker, WorkerThread

log = logging.getLogger(__name__)


def needs_test_set(run: Run | None) -> bool:
    """A scored run whose test images are not in memory (a stored run, after a restart)."""
    return (run is not None and run.metrics is not None and not run.status.active and bool(run.checkpoint_path)
            and run.source != "opened" and run.extra.get("test_predictions") is None)


class SharedTestImages:
    """Runs on the same test set share one array (MNIST's is 31 MB): call it with a run's images to get
    the array to keep."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self._cache: dict[tuple, np.ndarray] = {}

    def __call__(self, dataset: str, images: np.ndarray | None) -> np.ndarray | None:
        if images is None:
            return None
        key = (dataset, images.shape)
        cached = self._cache.get(key)
        if cached is not None and np.array_equal(cached, images):
            return cached
        self._cache[key] = images
        return images


class TestSetLoader(QObject):
    """Loads stored runs' test sets off the GUI thread, one job per run, kept until its thread ends."""

    loaded = Signal(int)  # run id: its test images and predictions are in run.extra
    failed = Signal(int, str)  # run id, why (one line)
    ended = Signal()  # a job's thread has ended (a window closing waits for the last one)
    __test__ = False  # not a pytest class

    def __init__(self, runs: Runs, model_path: Callable[[Run], Path], data_dir: Callable[[], str | None],
                 share: Callable[[str, Any], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.model_path = model_path  # where the run's model file is
        self.data_dir = data_dir  # the window's data folder (MNIST), when the model's own is gone
        self.share = share  # runs on the same test set share one array
        self.jobs: dict[int, WorkerThread] = {}
        self.errors: dict[int, str] = {}

    def ensure(self, run: Run | None) -> bool:
        """Start loading `run`'s test set if its views need it; True while it is loading."""
        if run is None or run.id in self.jobs:
            return run is not None and run.id in self.jobs
        if not needs_test_set(run) or run.id in self.errors:
            return False
        path, dataset, run_id, folder = self.model_path(run), run.dataset or None, run.id, self.data_dir()

        def task(control, _progress):
            from lstm_desktop.core.models.checkpoint import load_checkpoint
            from lstm_desktop.core.training.evaluate import data_dir_for, score_checkpoint

            ckpt = load_checkpoint(path)
            where = data_dir_for(ckpt, None) or folder  # the folder it trained from, else the window's
            return run_id, ckpt, score_checkpoint(ckpt, data_dir=where, dataset=dataset, control=control)

        worker = TaskWorker(task, f"test set of run {run_id}")
        worker.succeeded.connect(self._on_loaded)
        worker.failed.connect(GuiRelay(lambda m, h, rid=run_id: self._on_failed(rid, m, h), self).call)
        job = WorkerThread(worker, "lstm-desktop-test-set")
        job.thread.finished.connect(lambda rid=run_id: self._on_thread_finished(rid))
        self.jobs[run_id] = job
        job.start()
        return True

    def _on_loaded(self, result) -> None:
        run_id, ckpt, scored = result
        run = self.runs.get(run_id)
        if run is None or scored is None:  # removed meanwhile, or stopped
            return
        run.extra.setdefault("checkpoint", ckpt)
        run.extra.update(test_images=self.share(scored.dataset, scored.images), test_labels=scored.labels,
                         test_predictions=scored.predictions)
        self.runs.touch(run, "extra")
        self.loaded.emit(run_id)

    def _on_failed(self, run_id: int, message: str, hint: str) -> None:
        self.errors[run_id] = f"{message} {hint}".strip()
        self.failed.emit(run_id, self.errors[run_id])

    def _on_thread_finished(self, run_id: int) -> None:
        job = self.jobs.pop(run_id, None)
        if job is not None:
            job.release()
        self.ended.emit()

    def threads(self) -> list[WorkerThread]:
        return list(self.jobs.values())
