"""One training run end to end (data -> fit -> test metrics -> checkpoint), shared by CLI and app."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from lstm_desktop.core.checkpoint import Checkpoint, save_checkpoint
from lstm_desktop.core.config import TrainConfig
from lstm_desktop.core.control import TrainingControl
from lstm_desktop.core.data import MEAN, STD, DataBundle, load_bundle
from lstm_desktop.core.engine import FitResult, Shard, Trainer, spec_for
from lstm_desktop.core.events import Callback, EpochEnded, Event, ProbeScored
from lstm_desktop.core.inference import predict_probabilities
from lstm_desktop.core.metrics import Metrics, compute_metrics
from lstm_desktop.core.models import LSTMClassifier

MAX_BATCH_POINTS = 4000  # batch-loss points kept in a checkpoint, enough to redraw its curve


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
        }


def _thin(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    if len(xs) <= limit:
        return list(xs), list(ys)
    step = math.ceil(len(xs) / limit)
    return xs[::step], ys[::step]


def make_checkpoint(model: LSTMClassifier, config: TrainConfig, data: DataBundle, fit: FitResult | None,
                    history: dict[str, list[float]], metrics: Metrics | None,
                    world_size: int = 1) -> Checkpoint:
    hist = {k: list(v) for k, v in history.items() if k not in ("batch_x", "batch_loss")}
    hist["batch_x"], hist["batch_loss"] = _thin(history.get("batch_x", []), history.get("batch_loss", []),
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


def run_training(config: TrainConfig, callbacks: Iterable[Callback] = (),
                 control: TrainingControl | None = None, out: str | Path | None = None,
                 download: bool = False, data: DataBundle | None = None,
                 shard: Shard | None = None, wrap=None, is_writer: bool = True,
                 probe: Callable[[], np.ndarray | None] | None = None) -> TrainingOutcome:
    """Load data (downloading if asked), train, score the test set, save the checkpoint.

    With `out`, the checkpoint is rewritten after every finished epoch, so an interrupted run keeps
    its last finished epoch; the final write adds the test metrics. `probe` returns a model-ready
    image (or None) that is re-scored after every epoch and reported as ProbeScored.
    """
    control = control or TrainingControl()
    callbacks = list(callbacks)
    if data is None:
        emit_all = lambda e: [cb(e) for cb in callbacks]  # noqa: E731
        data = load_bundle(config.dataset, config.data_dir, config.val_size, config.seed,
                           download=download, callback=emit_all,
                           should_stop=lambda: control.stop_requested)
    torch.manual_seed(config.seed)
    model = LSTMClassifier(spec_for(config, data))
    out_path = Path(out) if out else None
    world = shard.world if shard is not None else 1

    def after_epoch(event: Event) -> None:
        if not isinstance(event, EpochEnded):
            return
        if out_path is not None and is_writer:
            save_checkpoint(out_path, make_checkpoint(model, config, data, None, trainer.history, None, world))
        image = probe() if probe is not None else None
        if image is not None:
            probs = predict_probabilities(model, image)[0]
            model.train()
            for cb in callbacks:
                cb(ProbeScored(event.epoch, tuple(float(p) for p in probs)))

    trainer = Trainer(config, [*callbacks, after_epoch], control=control, shard=shard)
    fit = trainer.fit(data, model=model, wrap=wrap)
    metrics, predictions = None, None
    if fit.epochs_completed:
        from lstm_desktop.core.engine import predict

        predictions = predict(fit.model, data.test_x).argmax(1).cpu().numpy()
        metrics = compute_metrics(data.test_y.cpu().numpy(), predictions, data.num_classes)
    ckpt = make_checkpoint(fit.model, config, data, fit, fit.history, metrics, world)
    saved = None
    if out_path is not None and is_writer and fit.epochs_completed:
        saved = save_checkpoint(out_path, ckpt)
        ckpt.path = saved
    return TrainingOutcome(config, fit, metrics, ckpt, data.name, saved,
                           data.test_x.cpu().numpy(), data.test_y.cpu().numpy(), predictions)
