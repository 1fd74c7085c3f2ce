"""The optimiser and learning-rate schedule a TrainConfig asks for: one place, used by the engine,
the epoch-time estimate and the tests, so a timed step is the step a run takes.

Why our own Adam class: torch.optim.Optimizer wraps __init__'s add_param_group, step, zero_grad and
the state-dict methods in torch.compile guards that import torch._dynamo (and with it triton) on
their first call. The app never compiles, the import costs about a second before the first batch,
and importing triton after a GTK3 platform theme loaded libgtk-3 kills the process (SIGSEGV, issue
25). Adam below runs torch's own undecorated methods, so the maths and the seeded results are
torch.optim.Adam's, bit for bit (tests/core/test_optim.py), without the import.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import torch

from lstm_desktop.core.training.config import TrainConfig


def _undecorated(func: Callable[..., Any]) -> Callable[..., Any]:
    """torch's method without its wrappers (functools.wraps keeps each as __wrapped__): the guards and,
    for a step an Adam built earlier has patched, the profiler hook (our step gets its own)."""
    return inspect.unwrap(func)


_ADAM_STEP = _undecorated(torch.optim.Adam.step)


class Adam(torch.optim.Adam):
    """torch.optim.Adam without the torch.compile hooks that import torch._dynamo and triton."""

    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """torch's Adam step, with the grad mode its own wrapper sets but without its graph breaks."""
        with torch.set_grad_enabled(bool(self.defaults["differentiable"])):
            return _ADAM_STEP(self, closure)


def make_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """Adam as in the notebook; the fused kernel when this torch has it for the device (same maths)."""
    kwargs = dict(lr=config.lr, weight_decay=config.weight_decay)
    try:
        return Adam(model.parameters(), fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return Adam(model.parameters(), **kwargs)


def make_scheduler(opt: torch.optim.Optimizer, config: TrainConfig, total_steps: int):
    if config.lr_schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=total_steps,
                                                   pct_start=0.15, div_factor=10.0, final_div_factor=100.0)
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps, eta_min=config.lr * 0.01)
    return None
