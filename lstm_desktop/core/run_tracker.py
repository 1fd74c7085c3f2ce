"""The training observer that keeps a Run (core/runs.py) up to date from the engine's events.

The window, the command line and torchrun all track their run through this one callback, so a
run's status, curves and metrics mean the same everywhere; the store's recorder persists them.
"""

from __future__ import annotations

import time

from lstm_desktop.core import events as ev
from lstm_desktop.core.runs import Run, Runs, RunStatus

CURVE_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_second")


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class RunTracker(ev.Callback):
    """Applies one run's events to `run` through `runs.update`, so subscribers hear of each change.

    Batch losses are kept in the run's history as they come (the plots read them); subscribers are
    told about them once per epoch, not per batch.
    """

    def __init__(self, runs: Runs, run: Run) -> None:
        self.runs = runs
        self.run = run
        self._started = time.perf_counter()

    def on_run_start(self, event: ev.RunStarted) -> None:
        self._started = time.perf_counter()
        self.runs.update(self.run, status=RunStatus.RUNNING, started=now_iso(), config=event.config,
                         dataset=event.config.dataset, variant=event.config.variant_name,
                         epochs_total=event.config.epochs)

    def on_fit_start(self, event: ev.FitStarted) -> None:
        history = {"batch_x": [], "batch_loss": [], "epoch": [], **{k: [] for k in CURVE_KEYS}}
        self.runs.update(self.run, device=event.device, history=history, probe=[], gradient_flow=[])

    def on_batch_end(self, event: ev.BatchEnded) -> None:
        h = self.run.history
        h.setdefault("batch_x", []).append(event.progress)
        h.setdefault("batch_loss", []).append(event.loss)

    def on_epoch_end(self, event: ev.EpochEnded) -> None:
        h = self.run.history
        h.setdefault("epoch", []).append(float(event.epoch + 1))
        for key in CURVE_KEYS:
            h.setdefault(key, []).append(float(getattr(event, key)))
        self.runs.update(self.run, epochs_done=event.epoch + 1, seconds=time.perf_counter() - self._started,
                         samples_per_second=event.samples_per_second)
        self.runs.touch(self.run, "history")

    def on_probe_scored(self, event: ev.ProbeScored) -> None:
        self.run.probe.append((float(event.epoch + 1), list(event.probabilities)))
        self.runs.touch(self.run, "probe")

    def on_gradient_flow(self, event: ev.GradientFlowMeasured) -> None:
        self.run.gradient_flow.append((float(event.progress), list(event.norms)))
        self.runs.touch(self.run, "gradient_flow")

    def on_checkpoint_saved(self, event: ev.CheckpointSaved) -> None:
        self.runs.update(self.run, checkpoint_path=event.path)

    def on_fit_end(self, event: ev.FitEnded) -> None:
        self.runs.update(self.run, samples_per_second=event.train_samples_per_second,
                         epochs_done=event.epochs_completed)

    def on_test_end(self, event: ev.TestScored) -> None:
        self.runs.update(self.run, metrics=event.metrics)

    def on_run_end(self, event: ev.RunEnded) -> None:
        status = {"finished": RunStatus.FINISHED, "stopped": RunStatus.STOPPED}.get(event.status, RunStatus.FAILED)
        self.runs.update(self.run, status=status, ended=now_iso(), message=event.message,
                         seconds=time.perf_counter() - self._started)
