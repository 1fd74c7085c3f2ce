"""The optimiser and learning-rate schedule a TrainConfig asks for: one place, used by the engine,
the epoch-time estimate and the tests, so a timed step is the step a run takes."""

from __future__ import annotations

import torch

from lstm_desktop.core.config import TrainConfig


def make_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """Adam as in the notebook; the fused kernel when this torch has it for the device (same maths)."""
    kwargs = dict(lr=config.lr, weight_decay=config.weight_decay)
    try:
        return torch.optim.Adam(model.parameters(), fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), **kwargs)


def make_scheduler(opt: torch.optim.Optimizer, config: TrainConfig, total_steps: int):
    if config.lr_schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=total_steps,
                                                   pct_start=0.15, div_factor=10.0, final_div_factor=100.0)
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps, eta_min=config.lr * 0.01)
    return None
