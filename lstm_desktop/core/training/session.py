"""One training run end to end (data -> fit -> test metrics -> checkpoint), shared by CLI and app."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from lstm_desktop.core.data.catalog import load_bundle_for
from lstm_desktop.core.data.image_sets import DataBundle
from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.models.checkpoint import Checkpoint, save_checkpoint
from lstm_desktop.core.models.networks import LSTMClassifier
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.training.engine import FitResult, Shard, Trainer, spec_for
from lstm_desktop.core.training.epoch_callbacks import RUN_MODEL, EpochCheckpoints, ProbeScorer, make_checkpoint
from lstm_desktop.core.training.events import (Callback, CallbackLike, CheckpointSaved, RunEnded, RunStarted,
                                               TestScored, as_callbacks, dispatch)
from lstm_desktop.core.training.metrics import Metrics, compute_metrics


@dataclass
class TrainingOutcome:
    config: TrainConfig
    fit: FitResult
    metrics: Metrics | None
    checkpoint: Checkpoint
    data_name: str
    saved_to: Path | None = None
    test_images: np.ndarray | None = None  # (N, H, W) model inputs, for drill-down views
    test_labels: np.ndarray | None = None
    test_predictions: np.ndarray | None = None

    def summary(self) -> dict:
        """The numbers `--json` prints and the app lists for a run."""
        m = self.metrics
        return {
            "accuracy": m.accuracy if m else None, "precision": m.precision if m else None,
            "recall": m.recall if m else None, "f1": m.f1 if m else None,
            "epochs": self.fit.epochs_completed, "seconds": round(self.fit.seconds, 3),
            "train_samples_per_second": round(self.fit.train_samples_per_second, 1),
            "stopped": self.fit.stopped, "failed": self.fit.failure.message if self.fit.failure else None,
            "device": self.fit.device, "dataset": self.data_name, "variant": self.config.variant_name,
            "parameters": sum(p.numel() for p in self.checkpoint.model.parameters()),
            "checkpoint": str(self.saved_to) if self.saved_to else None,
            "gradient_flow": self.fit.history.get("gradient_flow"),  # last dLoss/dh_t per step, or None
        }


def run_training(config: TrainConfig, callbacks: Iterable[CallbackLike] = (),
                 control: TrainingControl | None = None, out: str | Path | None = None,
                 download: bool = False, data: DataBundle | None = None,
                 shard: Shard | None = None, wrap=None, is_writer: bool = True,
                 probe: Callable[[], np.ndarray | None] | None = None,
                 run_dir: str | Path | None = None) -> TrainingOutcome:
    """Load data (downloading if asked), train, score the test set, save the checkpoints.

    run_dir: the run's own folder (the run store's); after every finished epoch its `model.pt`
    (and `best.pt`, the best validation epoch) is rewritten atomically, so a run killed at any
    moment keeps its last finished epoch. `out` is written once, at the end (write_out's policy).
    `probe` returns a model-ready image (or None) re-scored after every epoch (ProbeScored).
    Lifecycle events: RunStarted first, RunEnded last (also when loading the data fails).
    """
    control = control or TrainingControl()
    cbs = as_callbacks(callbacks)
    emit = lambda e: dispatch(cbs, e)  # noqa: E731
    emit(RunStarted(config))
    started = time.perf_counter()
    try:
        outcome = _train(config, cbs, emit, control, out, download, data, shard, wrap, is_writer, probe,
                         Path(run_dir) if run_dir else None)
    except LstmDesktopError as exc:
        emit(RunEnded("failed", exc.message, exc.hint, 0, time.perf_counter() - started))
        raise
    except BaseException as exc:
        emit(RunEnded("failed", f"{type(exc).__name__}: {exc}", "", 0, time.perf_counter() - started))
        raise
    fit = outcome.fit
    status = "failed" if fit.failure is not None else "stopped" if fit.stopped else "finished"
    message, hint = (fit.failure.message, fit.failure.hint) if fit.failure else ("", "")
    if not fit.epochs_completed and status != "failed":
        message = "no epoch finished, so there is no model"
    emit(RunEnded(status, message, hint, fit.epochs_completed, fit.seconds, outcome.summary()))
    return outcome


def _train(config, cbs, emit, control, out, download, data, shard, wrap, is_writer, probe,
           run_dir: Path | None) -> TrainingOutcome:
    if data is None:
        data = load_bundle_for(config, download=download, callback=emit,
                               should_stop=lambda: control.stop_requested)
    torch.manual_seed(config.seed)
    model = LSTMClassifier(spec_for(config, data))
    world = shard.world if shard is not None else 1
    writer = is_writer and run_dir is not None
    after_epoch: list[Callback] = []
    if writer:
        after_epoch.append(EpochCheckpoints(model, config, data, lambda: trainer.history, run_dir, emit, world))
    if probe is not None:
        after_epoch.append(ProbeScorer(model, probe, (data.seq_len, data.input_size), emit))
    trainer = Trainer(config, [*cbs, *after_epoch], control=control, shard=shard)
    fit = trainer.fit(data, model=model, wrap=wrap)
    metrics, predictions = None, None
    if fit.epochs_completed:
        from lstm_desktop.core.training.engine import predict

        predictions = predict(fit.model, data.test_x).argmax(1).cpu().numpy()
        metrics = compute_metrics(data.test_y.cpu().numpy(), predictions, data.num_classes)
        emit(TestScored(metrics))
    ckpt = make_checkpoint(fit.model, config, data, fit, fit.history, metrics, world)
    saved = None
    if is_writer and fit.epochs_completed:
        if run_dir is not None:
            ckpt.path = save_checkpoint(run_dir / RUN_MODEL, ckpt)
            emit(CheckpointSaved(str(ckpt.path), fit.epochs_completed, final=True))
        if out:
            saved = write_out(Path(out), ckpt, finished=fit.failure is None and not fit.stopped)
            ckpt.path = saved or ckpt.path
    return TrainingOutcome(config, fit, metrics, ckpt, data.name, saved,
                           data.test_x.cpu().numpy(), data.test_y.cpu().numpy(), predictions)


def write_out(out: Path, ckpt: Checkpoint, finished: bool) -> Path | None:
    """Write the run's model to the user's --out file at the end of the run (core/files/outfile.py's policy)."""
    from lstm_desktop.core.files.outfile import write_out as policy

    return policy(out, ckpt, finished)
