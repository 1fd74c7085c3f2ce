"""What a run does after each finished epoch besides training, as named callbacks (Lightning's shape):
keep the epoch's model on disk (and the best one), and re-score the pad's drawing. Each is tested alone."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from lstm_desktop.core.data.image_sets import MEAN, STD, DataBundle
from lstm_desktop.core.drawing.inference import fit_input, predict_probabilities
from lstm_desktop.core.models.checkpoint import Checkpoint, save_checkpoint
from lstm_desktop.core.models.networks import LSTMClassifier
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.engine import FitResult
from lstm_desktop.core.training.events import Callback, CheckpointSaved, EpochEnded, ProbeScored
from lstm_desktop.core.training.metrics import Metrics

MAX_BATCH_POINTS = 4000  # batch-loss points kept in a checkpoint, enough to redraw its curve
RUN_MODEL = "model.pt"  # in a run's folder: the model of the last finished epoch, then the final one
RUN_BEST = "best.pt"  # the epoch with the best validation accuracy so far

Emit = Callable[[object], None]


def thin(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    """Every k-th point, so a long run's batch curve stays a bounded size in its checkpoint."""
    if len(xs) <= limit:
        return list(xs), list(ys)
    step = math.ceil(len(xs) / limit)
    return xs[::step], ys[::step]


def make_checkpoint(model: LSTMClassifier, config: TrainConfig, data: DataBundle, fit: FitResult | None,
                    history: dict[str, list[float]], metrics: Metrics | None,
                    world_size: int = 1) -> Checkpoint:
    """A run's model with everything needed to reuse it: weights (on the CPU), config, curves, metrics."""
    hist = {k: list(v) for k, v in history.items() if k not in ("batch_x", "batch_loss")}
    hist["batch_x"], hist["batch_loss"] = thin(history.get("batch_x", []), history.get("batch_loss", []),
                                               MAX_BATCH_POINTS)
    info = {"dataset": data.name, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "torch": torch.__version__}
    if world_size > 1:  # data-parallel run: config.batch_size is the global batch
        info.update(world_size=world_size, batch_per_process=config.batch_size // world_size)
    if fit is not None:
        info.update(epochs=fit.epochs_completed, seconds=fit.seconds,
                    train_samples_per_second=fit.train_samples_per_second, device=fit.device)
    cpu_model = model
    if next(model.parameters()).device.type != "cpu":
        cpu_model = LSTMClassifier(model.spec)
        cpu_model.load_state_dict({k: v.cpu() for k, v in model.state_dict().items()})
    return Checkpoint(cpu_model, model.spec, config, metrics, hist, MEAN, STD, info)


class EpochCheckpoints(Callback):
    """After every finished epoch, `run_dir/model.pt` is rewritten atomically (a run killed at any moment
    keeps its last finished epoch) and `best.pt` too when validation accuracy (training accuracy without a
    validation split) beats every earlier epoch. Announces each save with CheckpointSaved."""

    def __init__(self, model: LSTMClassifier, config: TrainConfig, data: DataBundle,
                 history: Callable[[], dict[str, list[float]]], run_dir: Path, emit: Emit,
                 world_size: int = 1) -> None:
        self.model, self.config, self.data, self.history = model, config, data, history
        self.run_dir, self.emit, self.world_size = Path(run_dir), emit, world_size
        self.best_accuracy = -math.inf

    def on_epoch_end(self, event: EpochEnded) -> None:
        ckpt = make_checkpoint(self.model, self.config, self.data, None, self.history(), None, self.world_size)
        path = save_checkpoint(self.run_dir / RUN_MODEL, ckpt)
        best_path = ""
        accuracy = event.val_accuracy if math.isfinite(event.val_accuracy) else event.train_accuracy
        if accuracy > self.best_accuracy:
            self.best_accuracy = accuracy
            best_path = str(save_checkpoint(self.run_dir / RUN_BEST, ckpt))
        self.emit(CheckpointSaved(str(path), event.epoch + 1, best_path))


class ProbeScorer(Callback):
    """Re-scores the user's probe (the digit on the pad, or None) with the model being trained after every
    epoch, so the window shows the model learning it (ProbeScored); leaves the model in training mode."""

    def __init__(self, model: LSTMClassifier, probe: Callable[[], np.ndarray | None], shape: tuple[int, int],
                 emit: Emit) -> None:
        self.model, self.probe, self.shape, self.emit = model, probe, shape, emit

    def on_epoch_end(self, event: EpochEnded) -> None:
        image = fit_input(self.probe(), self.shape)
        if image is None:
            return
        probs = predict_probabilities(self.model, image)[0]
        self.model.train()
        self.emit(ProbeScored(event.epoch, tuple(float(p) for p in probs)))
