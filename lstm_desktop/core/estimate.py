"""An honest time-per-epoch estimate before a long run starts (pixel-mnist: 784 steps a sample)."""

from __future__ import annotations

import time

from lstm_desktop.core.config import TrainConfig

TRAIN_SIZES = {"pixel-mnist": 55_000}


def seconds_per_epoch(config: TrainConfig, input_size: int, seq_len: int, train_size: int,
                      num_classes: int = 10, batches: int = 3) -> float:
    """Time a few real optimiser steps of this model on random data, scaled to the epoch."""
    import torch

    from lstm_desktop.core.engine import make_optimizer
    from lstm_desktop.core.models import LSTMClassifier, ModelSpec

    spec = ModelSpec(input_size=input_size, seq_len=seq_len, hidden=config.hidden, layers=config.layers,
                     bidirectional=config.bidirectional, attention=config.attention, dropout=config.dropout,
                     num_classes=num_classes, cell=config.cell)
    model = LSTMClassifier(spec)
    opt = make_optimizer(model, config, torch.device("cpu"))
    x = torch.randn(config.batch_size, seq_len, input_size)
    y = torch.randint(0, num_classes, (config.batch_size,))
    times = []
    for _ in range(batches + 1):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    per_batch = sorted(times[1:])[len(times[1:]) // 2]  # the first step warms up
    return per_batch * train_size / config.batch_size


def describe_epoch_time(config: TrainConfig) -> str:
    """A line such as 'pixel-mnist: about 14 min per epoch here (measured on 3 batches)', or ''."""
    if config.dataset not in TRAIN_SIZES or config.device not in ("auto", "cpu"):
        return ""
    seconds = seconds_per_epoch(config, 1, 784, TRAIN_SIZES[config.dataset] - config.val_size + 5000)
    minutes = seconds / 60
    total = minutes * config.epochs
    when = f"{minutes:.0f} min" if minutes >= 1 else f"{seconds:.0f} s"
    return (f"{config.dataset}: about {when} per epoch on this machine, {total:.0f} min for {config.epochs} "
            f"epoch{'s' if config.epochs != 1 else ''} (measured on a few batches; the fast path may be quicker)")
