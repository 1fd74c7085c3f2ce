"""Adam's step as one call of torch's fused kernel on the optimiser's own state, without its Python.

Why: torch.optim.Adam(fused=True).step() spends ~0.4 ms of Python around a ~0.1 ms kernel, about
4% of a batch at the notebook's size. When the optimiser is exactly that (one group, no amsgrad,
no hooks), the same kernel on the same tensors gives bit-identical weights and state (tests).
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstm_desktop.core.training.optim import Adam

_ADAMS = (torch.optim.Adam, Adam)  # ours runs torch's step unchanged (core/training/optim.py)


def fusable(opt: torch.optim.Optimizer, params: list[Tensor]) -> bool:
    """True when opt.step() is exactly one _fused_adam_ call over params."""
    if type(opt) not in _ADAMS or len(opt.param_groups) != 1 or not hasattr(torch, "_fused_adam_"):
        return False
    group = opt.param_groups[0]
    return (len(group["params"]) == len(params) and all(a is b for a, b in zip(group["params"], params))
            and group.get("fused") is True and not group.get("amsgrad") and not group.get("maximize")
            and not group.get("capturable") and not group.get("differentiable")
            and not group.get("decoupled_weight_decay", False) and isinstance(group["lr"], float)
            and not getattr(opt, "_optimizer_step_pre_hooks", None)
            and not getattr(opt, "_optimizer_step_post_hooks", None))


def state_tensors(opt: torch.optim.Optimizer, params: list[Tensor]) -> tuple[list[Tensor], list[Tensor], list[Tensor]]:
    """(exp_avgs, exp_avg_sqs, steps) of opt, created as Adam(fused=True) creates them on its first step."""
    exp_avgs, exp_avg_sqs, steps = [], [], []
    for p in params:
        state = opt.state[p]
        if not state:
            state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        exp_avgs.append(state["exp_avg"])
        exp_avg_sqs.append(state["exp_avg_sq"])
        steps.append(state["step"])
    return exp_avgs, exp_avg_sqs, steps


def hyper(opt: torch.optim.Optimizer) -> tuple[float, float, float, float, float]:
    """(lr, beta1, beta2, weight_decay, eps), read each step: a schedule changes lr."""
    group = opt.param_groups[0]
    beta1, beta2 = group["betas"]
    return float(group["lr"]), float(beta1), float(beta2), float(group["weight_decay"]), float(group["eps"])


class FusedAdam:
    """opt.step() for a fusable Adam, as two calls; tells an LR schedule that the optimiser stepped."""

    def __init__(self, opt: torch.optim.Optimizer, params: list[Tensor]) -> None:
        self.opt = opt
        self.params = params
        self.exp_avgs, self.exp_avg_sqs, self.steps = state_tensors(opt, params)

    def step(self, grads: list[Tensor]) -> None:
        lr, beta1, beta2, weight_decay, eps = hyper(self.opt)
        torch._foreach_add_(self.steps, 1)
        torch._fused_adam_(self.params, grads, self.exp_avgs, self.exp_avg_sqs, [], self.steps, lr=lr,
                           beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False,
                           maximize=False)
        stepped(self.opt)


def stepped(opt: torch.optim.Optimizer) -> None:
    """What opt.step() tells an LR schedule; without it the schedule warns of a wrong call order."""
    opt._opt_called = True  # type: ignore[attr-defined]
