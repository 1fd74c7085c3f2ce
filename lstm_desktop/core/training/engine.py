"""The training engine: a loop over tensor batches that reports through events.

Progress bars, logs, the Qt worker and checkpointing are all callbacks; stopping and pausing are
flags polled between batches (TrainingControl). Seeded and reproducible on a given device.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F

from lstm_desktop.core.data.augment import HANDWRITING, PLAIN, EpochAugmenter
from lstm_desktop.core.data.augment_ops import generator_for
from lstm_desktop.core.steps.batch_readout import BatchReadout
from lstm_desktop.core.training.config import LONG_LAG, TrainConfig
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.data.image_sets import DataBundle
from lstm_desktop.core.training.devices import resolve_device
from lstm_desktop.core.training.estimate import estimated_epoch_seconds
from lstm_desktop.core.training.events import (BatchEnded, CallbackLike, EpochEnded, Event, FitEnded, FitFailed,
                                      FitStarted, as_callbacks, dispatch)
from lstm_desktop.core.models.gradient_flow import GradientFlowProbe
from lstm_desktop.core.training.metrics import Metrics, compute_metrics
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec, count_parameters
from lstm_desktop.core.steps.fast_path import make_step
from lstm_desktop.core.steps.torch_steps import SerialStep
from lstm_desktop.core.training.optim import make_optimizer, make_scheduler

Reducer = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class FitResult:
    model: LSTMClassifier
    history: dict[str, list[float]]
    epochs_completed: int
    seconds: float
    train_samples_per_second: float
    stopped: bool = False
    failure: FitFailed | None = None
    device: str = "cpu"


@dataclass
class Shard:
    """Which slice of every epoch this process trains on (rank, world size); (0, 1) = all of it.

    With world > 1, `config.batch_size` is the global batch: each rank steps on
    batch_size // world samples, so N ranks under DDP take the same optimiser steps as one
    process with the whole batch. `observe(epoch, indices)`, when set, is told which training
    indices this rank trains on in each epoch (a debugging/test hook).
    """

    rank: int = 0
    world: int = 1
    reduce_sum: Reducer = field(default=lambda t: t)
    observe: Callable[[int, torch.Tensor], None] | None = None


def spec_for(config: TrainConfig, data: DataBundle) -> ModelSpec:
    return ModelSpec(input_size=data.input_size, seq_len=data.seq_len, hidden=config.hidden,
                     layers=config.layers, bidirectional=config.bidirectional,
                     attention=config.attention, dropout=config.dropout,
                     num_classes=data.num_classes, cell=config.cell,  # long-lag lab: cell and init
                     chrono_init=config.dataset in LONG_LAG)


def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 2048,
            control: TrainingControl | None = None) -> torch.Tensor:
    """Softmax probabilities for x (N, T, F) on the model's device, in chunks, without gradients."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            if control is not None and control.stop_requested:
                break
            out.append(torch.softmax(model(x[i:i + batch_size].to(device)), dim=1).float())
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, 10)


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int = 10) -> Metrics:
    probs = predict(model, x)
    return compute_metrics(y.cpu().numpy(), probs.argmax(1).cpu().numpy(), num_classes)


@dataclass
class _Fit:
    """One fit's state: what the epoch loop reads and advances (Trainer.fit's locals, named)."""

    model: LSTMClassifier
    net: torch.nn.Module
    data: DataBundle
    device: torch.device
    opt: torch.optim.Optimizer
    sched: object | None
    step: SerialStep
    batch_size: int
    batches: int
    per_rank: int
    gen: torch.Generator
    augmenter: EpochAugmenter | None
    flow: GradientFlowProbe | None
    good_state: dict[str, torch.Tensor]
    started: float = field(default_factory=time.perf_counter)
    train_seconds: float = 0.0
    paused_seconds: float = 0.0
    samples_seen: int = 0
    epochs_done: int = 0
    failure: FitFailed | None = None


@dataclass
class _EpochSums:
    """What one epoch's batches add up to, on the device until the epoch ends."""

    loss: torch.Tensor
    correct: torch.Tensor
    seen: int = 0
    paused: float = 0.0
    seconds: float = 0.0


class Trainer:
    """Fits an LSTMClassifier to a DataBundle, emitting events to every callback.

    The loop is Lightning's shape: setup, epochs of batches, validation, end; each piece below is
    one method. An observer that raises ends the fit with its error (the step is still closed), the
    same for every event, so a broken callback is never silently ignored.
    """

    def __init__(self, config: TrainConfig, callbacks: Iterable[CallbackLike] = (),
                 control: TrainingControl | None = None, shard: Shard | None = None) -> None:
        self.config = config
        self.callbacks = as_callbacks(callbacks)
        self.control = control or TrainingControl()
        self.shard = shard or Shard()
        self.history: dict[str, list[float]] = {}

    def emit(self, event: Event) -> None:
        dispatch(self.callbacks, event)

    def fit(self, data: DataBundle, model: LSTMClassifier | None = None,
            wrap: Callable[[torch.nn.Module], torch.nn.Module] | None = None) -> FitResult:
        """Train; on a NaN/inf loss or out-of-memory, keep the last good weights and report why."""
        run = self._setup(data, model, wrap)
        try:
            for epoch in range(self.config.epochs):
                if self.control.stop_requested or not self._epoch(run, epoch):
                    break
        except _NonFinite as exc:
            run.failure = FitFailed(f"Training stopped: the loss became {exc.value} at epoch {exc.epoch + 1}, "
                                    f"batch {exc.batch + 1}.",
                                    "The model keeps the weights of the last finished epoch. Lower the "
                                    "learning rate or turn on gradient clipping, then train again.", "nan")
        except torch.OutOfMemoryError:
            run.failure = FitFailed(f"Out of memory on {run.device}.",
                                    "Lower the batch size or the hidden size, or train on the CPU.", "memory")
        finally:
            run.step.close()  # torch's thread count and the split step's pool, on every path
        return self._finish(run)

    def _setup(self, data: DataBundle, model: LSTMClassifier | None,
               wrap: Callable[[torch.nn.Module], torch.nn.Module] | None) -> _Fit:
        """Seeds, model, optimiser, schedule and step; FitStarted says what will run."""
        cfg = self.config
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        model = (model or LSTMClassifier(spec_for(cfg, data))).to(device)
        net = wrap(model) if wrap else model
        data = data.to(device)
        opt = make_optimizer(model, cfg, device)
        per_rank = len(data.train_x) // self.shard.world
        batch_size = max(1, cfg.batch_size // self.shard.world)  # per rank; the global batch when world == 1
        batches = max(1, math.ceil(per_rank / batch_size))
        sched = make_scheduler(opt, cfg, cfg.epochs * batches)
        self.history = {k: [] for k in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr",
                                        "seconds", "samples_per_second", "batch_x", "batch_loss")}
        flow = self._gradient_flow_probe(data, batches)  # long-lag lab: dLoss/dh_t a few times an epoch
        eta = (estimated_epoch_seconds(cfg, data.input_size, data.seq_len, per_rank, device)
               if self.shard.world == 1 else 0.0)  # (DDP: each rank would time its own, at once)
        step = make_step(model, net, opt, cfg, device, batch_size, data_parallel=wrap is not None)
        self.emit(FitStarted(cfg.epochs, batches, len(data.train_x), len(data.val_x), str(device),
                             count_parameters(model), estimated_epoch_seconds=eta, step=step.description))
        return _Fit(model, net, data, device, opt, sched, step, batch_size, batches, per_rank,
                    torch.Generator().manual_seed(cfg.seed),
                    EpochAugmenter(HANDWRITING if cfg.augment_shapes else PLAIN,  # on the device: no host waits
                                   generator_for(device, cfg.seed + 1 + 7919 * self.shard.rank),  # ranks differ
                                   device, batch_size) if cfg.augment else None,
                    flow, copy.deepcopy(model.state_dict()))

    def _epoch(self, run: _Fit, epoch: int) -> bool:
        """Train and validate one epoch; False when it did not finish (stopped, or nothing to train)."""
        run.net.train()
        perm = torch.randperm(len(run.data.train_x), generator=run.gen)
        if self.shard.world > 1:
            perm = perm[: run.per_rank * self.shard.world][self.shard.rank::self.shard.world]
        if self.shard.observe is not None:
            self.shard.observe(epoch, perm)
        perm = perm.to(run.device)
        # One gather per epoch, then views. index_select, not x[perm]: tensor indexing holds
        # the GIL for the whole ~170 MB copy, which froze the app's window for ~50 ms.
        ex, ey = run.data.train_x.index_select(0, perm), run.data.train_y.index_select(0, perm)
        sums = self._batches(run, epoch, ex, ey)
        run.paused_seconds += sums.paused
        if sums.seen == 0:
            return False
        run.train_seconds += sums.seconds
        run.samples_seen += sums.seen * self.shard.world
        totals = self.shard.reduce_sum(torch.stack([sums.loss.float(), sums.correct.float(),
                                                    torch.tensor(float(sums.seen), device=run.device)]))
        if self.control.stop_requested and sums.seen < run.per_rank:
            return False  # a partial epoch is not a finished one: keep the last finished weights
        with run.step.all_threads():
            val_loss, val_acc = self._validate(run.model, run.data)
        run.epochs_done = epoch + 1
        run.good_state = copy.deepcopy(run.model.state_dict())
        lr = run.opt.param_groups[0]["lr"]
        sps = sums.seen * self.shard.world / max(sums.seconds, 1e-9)
        values = (run.epochs_done, float(totals[0] / totals[2]), float(totals[1] / totals[2]), val_loss, val_acc,
                  lr, sums.seconds, sps)
        for key, value in zip(("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr",
                               "seconds", "samples_per_second"), values):
            self.history[key].append(float(value))
        _, train_loss, train_acc = values[:3]
        self.emit(EpochEnded(epoch, self.config.epochs, train_loss, train_acc, val_loss, val_acc, sums.seconds,
                             sps, lr))
        return True

    def _batches(self, run: _Fit, epoch: int, ex: torch.Tensor, ey: torch.Tensor) -> _EpochSums:
        """One pass over the epoch's batches; losses are read back at the readout's rate."""
        bs = run.batch_size
        sums = _EpochSums(torch.zeros((), device=run.device), torch.zeros((), device=run.device, dtype=torch.long))
        start = time.perf_counter()
        window_start, window_samples = start, 0
        readout = BatchReadout(run.device)
        for b in range(run.batches):
            if self.control.paused:
                sums.paused += self.control.wait_while_paused()
                window_start, window_samples = time.perf_counter(), 0
            if self.control.stop_requested:
                break
            xb, yb = ex[b * bs:(b + 1) * bs], ey[b * bs:(b + 1) * bs]
            if len(xb) == 0:
                break
            if run.augmenter is not None:
                xb = run.augmenter.batch(epoch, b, ex, ey, bs)
            loss, batch_correct = run.step.train_batch(xb, yb)
            if run.sched is not None:
                run.sched.step()  # type: ignore[attr-defined]
            sums.correct += batch_correct
            sums.loss += loss * len(xb)
            sums.seen += len(xb)
            window_samples += len(xb)
            readout.add(b, loss, batch_correct, len(xb), run.opt.param_groups[0]["lr"])
            if readout.due():
                now = time.perf_counter()
                self._report(readout, epoch, run.batches, window_samples / max(now - window_start, 1e-9))
                if window_samples >= 20 * bs:
                    window_start, window_samples = now, 0
            measured = run.flow.maybe_measure(run.model, epoch, b, run.batches) if run.flow is not None else None
            if measured is not None:  # long-lag lab
                self.history["gradient_flow"] = list(measured.norms)
                self.emit(measured)
        self._report(readout, epoch, run.batches, window_samples / max(time.perf_counter() - window_start, 1e-9))
        sums.seconds = time.perf_counter() - start - sums.paused
        return sums

    def _finish(self, run: _Fit) -> FitResult:
        """The last good weights back where the fit failed or stopped early; FitFailed, FitEnded."""
        stopped_early = self.control.stop_requested and run.epochs_done < self.config.epochs
        if run.failure is not None or stopped_early:
            run.model.load_state_dict(run.good_state)
        if run.failure is not None:
            self.emit(run.failure)
        seconds = time.perf_counter() - run.started - run.paused_seconds
        sps_total = run.samples_seen / run.train_seconds if run.train_seconds > 0 else 0.0
        stopped = self.control.stop_requested and run.failure is None
        self.emit(FitEnded(run.epochs_done, seconds, sps_total, stopped))
        run.model.eval()
        return FitResult(run.model, self.history, run.epochs_done, seconds, sps_total, stopped, run.failure,
                         str(run.device))

    def _report(self, readout: BatchReadout, epoch: int, batches: int, rate: float) -> None:
        """History and BatchEnded for the batches read back; the first non-finite loss stops the fit."""
        for v in readout.read():
            if not math.isfinite(v.loss):
                raise _NonFinite(epoch, v.batch, v.loss)
            self.history["batch_x"].append(epoch + (v.batch + 1) / batches)
            self.history["batch_loss"].append(v.loss)
            self.emit(BatchEnded(epoch, v.batch, batches, v.loss, v.accuracy, rate * self.shard.world, v.lr))

    def _gradient_flow_probe(self, data: DataBundle, batches: int) -> GradientFlowProbe | None:
        """The first validation sequences (else training ones): a fixed batch; rank 0 only."""
        if self.shard.rank != 0:
            return None
        x, y = (data.val_x, data.val_y) if len(data.val_x) else (data.train_x, data.train_y)
        return GradientFlowProbe.for_epoch(x, y, batches)

    def _validate(self, model: torch.nn.Module, data: DataBundle) -> tuple[float, float]:
        if len(data.val_x) == 0:
            return math.nan, math.nan
        if self.shard.world > 1:  # each rank scores its slice; sums are reduced (one collective)
            rank, world = self.shard.rank, self.shard.world
            x, y = data.val_x[rank::world], data.val_y[rank::world]
            probs = predict(model, x) if len(x) else torch.empty(0, data.num_classes, device=y.device)
            y = y.to(probs.device)
            totals = self.shard.reduce_sum(torch.stack([
                F.nll_loss(torch.log(probs.clamp_min(1e-12)), y, reduction="sum").float(),
                (probs.argmax(1) == y).sum().float(),
                torch.tensor(float(len(y)), device=probs.device)]))
            return float(totals[0] / totals[2]), float(totals[1] / totals[2])
        probs = predict(model, data.val_x, control=self.control)
        if len(probs) < len(data.val_y):
            return math.nan, math.nan
        y = data.val_y
        loss = F.nll_loss(torch.log(probs.clamp_min(1e-12)), y.to(probs.device)).item()
        acc = (probs.argmax(1) == y.to(probs.device)).float().mean().item()
        return float(loss), float(acc)


class _NonFinite(Exception):
    def __init__(self, epoch: int, batch: int, value: float) -> None:
        super().__init__(value)
        self.epoch, self.batch, self.value = epoch, batch, value
