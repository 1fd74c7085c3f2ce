"""An honest time-per-epoch estimate before a long run starts (pixel-mnist: 784 steps a sample).

The engine measures it just before the first epoch (FitStarted.estimated_epoch_seconds), so the
command line and the window show the same figure, timed with the step the run will use.
"""

from __future__ import annotations

import time

from lstm_desktop.core.training.config import TrainConfig

TRAIN_SIZES = {"pixel-mnist": 55_000}


def seconds_per_epoch(config: TrainConfig, input_size: int, seq_len: int, train_size: int,
                      num_classes: int = 10, batches: int = 3) -> float:
    """Time a few real optimiser steps of this model on random data, scaled to the epoch: through
    the step the engine will use (fast_path.make_step), so the C kernel's speed is what is shown."""
    import torch

    from lstm_desktop.core.steps.fast_path import make_step
    from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
    from lstm_desktop.core.training.optim import make_optimizer

    spec = ModelSpec(input_size=input_size, seq_len=seq_len, hidden=config.hidden, layers=config.layers,
                     bidirectional=config.bidirectional, attention=config.attention, dropout=config.dropout,
                     num_classes=num_classes, cell=config.cell)
    model = LSTMClassifier(spec)
    opt = make_optimizer(model, config, torch.device("cpu"))
    x = torch.randn(config.batch_size, seq_len, input_size)
    y = torch.randint(0, num_classes, (config.batch_size,))
    step = make_step(model, model, opt, config, torch.device("cpu"), config.batch_size, data_parallel=False)
    times = []
    try:
        for _ in range(batches + 1):
            start = time.perf_counter()
            step.train_batch(x, y)
            times.append(time.perf_counter() - start)
    finally:
        step.close()
    per_batch = sorted(times[1:])[len(times[1:]) // 2]  # the first step warms up
    return per_batch * train_size / config.batch_size


def estimated_epoch_seconds(config: TrainConfig, input_size: int, seq_len: int, train_size: int,
                            device: "torch.device") -> float:
    """seconds_per_epoch for the long datasets on CPU, without touching the run's random streams;
    0.0 elsewhere (an epoch of seconds needs no estimate; GPU timings need a warm-up of their own)."""
    if config.dataset not in TRAIN_SIZES or device.type != "cpu":
        return 0.0
    import torch

    with torch.random.fork_rng(devices=[]):
        return seconds_per_epoch(config, input_size, seq_len, train_size)


def describe_epoch_time(seconds: float, epochs: int) -> str:
    """'about 2 min per epoch here, 10 min for 5 epochs', or '' for 0."""
    if seconds <= 0:
        return ""

    def span(s: float) -> str:
        return f"{s / 60:.0f} min" if s >= 60 else f"{s:.0f} s"

    plural = "s" if epochs != 1 else ""
    return f"about {span(seconds)} per epoch here, {span(seconds * epochs)} for {epochs} epoch{plural}"
