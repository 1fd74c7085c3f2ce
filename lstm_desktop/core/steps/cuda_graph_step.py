"""The whole training step captured once in a CUDA graph and replayed for every full-size batch.

Why: a small recurrent model on a GPU is bound by kernel launches and host round trips, not by
arithmetic (about 60 dependent launches a batch, each a few microseconds of Python and driver).
Captured once, forward + backward + gradient clipping + Adam replay as one graph launch.

Same maths as SerialStep with torch's fused Adam (the optimiser make_optimizer builds on CUDA):
the update is torch's own `_fused_adam_` kernel on the optimiser's own state tensors (bit-identical
weights without a schedule), and the clipping is torch's clip_grad_norm_. With a learning-rate
schedule the graph reads the rate from a device tensor refreshed before each replay (the kernel's
tensor-rate variant rounds its step size differently: weights agree to about 1e-7). Nothing here reads a value back to the host: the loss and the
correct count stay on the device until the engine reads them at the rate it reports them.

The first batches run eagerly on a side stream (CUDA's lazy initialisation must not happen during
capture); a batch of another size (the epoch's last, partial one) runs eagerly on the same state.
Off CUDA this class runs every batch eagerly, which is how its maths is tested without a GPU.
"""

from __future__ import annotations

import os
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor

from lstm_desktop.core.steps.fused_adam import hyper, state_tensors, stepped
from lstm_desktop.core.steps.torch_steps import SerialStep

WARMUP_BATCHES = 3  # eager batches on a side stream before the capture (torch's documented recipe)
DISABLE_ENV = "LSTM_DESKTOP_NO_CUDA_GRAPH"


def graph_capture_enabled(device: torch.device) -> bool:
    """CUDA graphs on a CUDA device unless LSTM_DESKTOP_NO_CUDA_GRAPH=1 (to compare, or to debug)."""
    return device.type == "cuda" and os.environ.get(DISABLE_ENV, "") in ("", "0")


def supported(opt: torch.optim.Optimizer) -> bool:
    """One parameter group of plain Adam maths (no amsgrad/maximize), every parameter trained."""
    if len(opt.param_groups) != 1 or not hasattr(torch, "_fused_adam_"):
        return False
    group = opt.param_groups[0]
    return ("betas" in group and "eps" in group and not group.get("amsgrad") and not group.get("maximize")
            and not group.get("decoupled_weight_decay", False))


class CudaGraphStep(SerialStep):
    """SerialStep's maths; on CUDA the full-size batches replay one captured graph."""

    def __init__(self, net: torch.nn.Module, opt: torch.optim.Optimizer, grad_clip: float,
                 batch_size: int, scheduled_lr: bool = True) -> None:
        super().__init__(net, opt, grad_clip)
        self.batch_size = batch_size
        self.params = [p for p in opt.param_groups[0]["params"]]
        self.exp_avgs, self.exp_avg_sqs, self.steps = state_tensors(opt, self.params)
        device = self.params[0].device
        for state in (self.exp_avgs, self.exp_avg_sqs):
            if any(t.device != device for t in state):
                raise ValueError("the optimiser's state is not on the model's device")
        self.steps[:] = [s.to(device=device, dtype=torch.float32) for s in self.steps]
        for p, s in zip(self.params, self.steps):
            opt.state[p]["step"] = s  # fused Adam keeps `step` on the device: the graph increments it
        self.lr = torch.tensor(hyper(opt)[0], dtype=torch.float32, device=device)
        self.scheduled_lr = scheduled_lr  # False: the graph bakes in the constant rate (bit-identical)
        self.on_cuda = graph_capture_enabled(device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.warmed = 0
        self.static: tuple[Tensor, Tensor, Tensor, Tensor] | None = None  # x, y, loss, correct
        self.replays = 0
        self.captured_lr = 0.0

    def _update(self, lr: float | Tensor) -> None:
        """Clip and Adam on the current .grad tensors: device work only, capturable."""
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        _, beta1, beta2, weight_decay, eps = hyper(self.opt)
        grads = [p.grad for p in self.params]
        torch._foreach_add_(self.steps, 1)
        torch._fused_adam_(self.params, grads, self.exp_avgs, self.exp_avg_sqs, [], self.steps, lr=lr,
                           beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False,
                           maximize=False)

    def _whole_step(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.net(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        self._update(self.lr if self.scheduled_lr else hyper(self.opt)[0])
        return loss.detach(), (logits.detach().argmax(1) == yb).sum()

    def _eager(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        """One batch without a graph; a non-finite loss leaves the weights as they were."""
        for p in self.params:
            p.grad = None
        logits = self.net(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        if bool(torch.isfinite(loss)):
            self._update(hyper(self.opt)[0])
        return loss.detach(), (logits.detach().argmax(1) == yb).sum()

    def _capture(self, xb: Tensor, yb: Tensor) -> None:
        x, y = xb.clone(), yb.clone()
        for p in self.params:
            p.grad = None  # the graph's backward writes (not adds) its own gradient buffers
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            loss, correct = self._whole_step(x, y)
        self.graph, self.static = graph, (x, y, loss, correct)
        self.captured_lr = hyper(self.opt)[0]

    def train_batch(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        """One step. In the graph a non-finite loss is not checked here: the engine reads the losses
        a few times a second, stops at the first non-finite one and restores the last good epoch."""
        lr = hyper(self.opt)[0]
        if not self.scheduled_lr and self.graph is not None and lr != self.captured_lr:
            self.scheduled_lr, self.graph, self.static = True, None, None  # the rate moved: capture anew
        if self.scheduled_lr and self.on_cuda:
            self.lr.fill_(lr)
        stepped(self.opt)
        if not self.on_cuda or len(xb) != self.batch_size:
            return self._eager(xb, yb)
        if self.graph is None and self.warmed < WARMUP_BATCHES:
            self.warmed += 1
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                out = self._eager(xb, yb)
            torch.cuda.current_stream().wait_stream(side)
            return out
        if self.graph is None:
            try:
                self._capture(xb, yb)  # records the step; the batch itself runs in the replay below
            except RuntimeError as exc:  # a driver or op that cannot be captured: the eager step, same maths
                warnings.warn(f"CUDA graph capture failed ({str(exc).splitlines()[0]}); training on without it",
                              RuntimeWarning, stacklevel=2)
                self.on_cuda, self.graph, self.static = False, None, None
                return self._eager(xb, yb)
        x, y, loss, correct = self.static  # type: ignore[misc]
        x.copy_(xb)
        y.copy_(yb)
        self.graph.replay()  # type: ignore[union-attr]
        self.replays += 1
        return loss.clone(), correct.clone()

    def close(self) -> None:
        self.graph = None
        self.static = None
        super().close()
