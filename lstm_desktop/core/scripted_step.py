"""SplitStep compiled with TorchScript, so that the parts of a batch run without the GIL.

Why: on two cores each batch runs as two halves at once. In Python the halves take turns at the
GIL between ops, so the second half starts about a millisecond late. Adam.step()'s Python then adds
half a millisecond more. A core idles during both, about 15% of a batch.

Here one TorchScript call per batch does the whole step:
- it forks the parts onto torch's inter-op threads;
- it adds their gradients in a fixed order;
- it applies Adam's fused kernel to the optimiser's own state tensors.

These are the same ops as SplitStep followed by Adam(fused=True). The tests check that the weights
come out bit for bit equal for every variant.

TorchScript is deprecated upstream, and it needs the source files at run time. So `create` returns
None whenever it cannot compile or check the step here, and the engine then uses SplitStep.
"""

from __future__ import annotations

import functools
import warnings
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from lstm_desktop.core import fused_adam
from lstm_desktop.core.models import LSTMClassifier
from lstm_desktop.core.steps import SerialStep, part_sizes


def _logits(x: Tensor, w: List[Tensor], layers: int, bidirectional: bool, attention: bool,
            hidden: int) -> Tensor:
    """LSTMClassifier.forward (dropout 0) on the flat parameter list, op for op."""
    dirs = 2 if bidirectional else 1
    n_lstm = 4 * layers * dirs
    h0 = torch.zeros([layers * dirs, x.size(0), hidden], dtype=x.dtype, device=x.device)
    out, h_n, c_n = torch.lstm(x, [h0, h0], w[:n_lstm], True, layers, 0.0, True, bidirectional, True)
    head = n_lstm
    if attention:
        scores = F.linear(torch.tanh(F.linear(out, w[n_lstm], w[n_lstm + 1])), w[n_lstm + 2])
        weights = torch.softmax(scores.squeeze(-1), dim=1)
        summary = torch.bmm(weights.unsqueeze(1), out).squeeze(1)
        head = n_lstm + 3
    elif bidirectional:
        summary = torch.cat([h_n[-2], h_n[-1]], dim=1)
    else:
        summary = out[:, -1, :]
    return F.linear(summary, w[head], w[head + 1])


def _part(x: Tensor, y: Tensor, n: int, w: List[Tensor], layers: int, bidirectional: bool,
          attention: bool, hidden: int) -> Tuple[Tensor, Tensor, List[Tensor]]:
    """One part's share of the batch: its summed loss over n, correct count and gradients."""
    logits = _logits(x, w, layers, bidirectional, attention, hidden)
    loss = F.cross_entropy(logits, y, reduction="sum") / n
    found: List[Optional[Tensor]] = torch.autograd.grad([loss], w)
    grads: List[Tensor] = []
    for g in found:
        assert g is not None
        grads.append(g)
    return loss.detach(), (logits.detach().argmax(1) == y).sum(), grads


def _split_grads(xb: Tensor, yb: Tensor, sizes: List[int], w: List[Tensor], layers: int,
                 bidirectional: bool, attention: bool, hidden: int) -> Tuple[Tensor, Tensor, List[Tensor]]:
    """The batch's mean loss, correct count and mean gradients, parts 1.. on other threads."""
    n = xb.size(0)
    xs = xb.split(sizes)
    ys = yb.split(sizes)
    futures: List[torch.jit.Future[Tuple[Tensor, Tensor, List[Tensor]]]] = []
    for i in range(1, len(xs)):
        futures.append(torch.jit.fork(_part, xs[i], ys[i], n, w, layers, bidirectional, attention, hidden))
    loss, correct, grads = _part(xs[0], ys[0], n, w, layers, bidirectional, attention, hidden)
    for future in futures:
        part_loss, part_correct, part_grads = torch.jit.wait(future)
        loss = loss + part_loss
        correct = correct + part_correct
        grads = [a + b for a, b in zip(grads, part_grads)]
    return loss, correct, grads


def _split_adam(xb: Tensor, yb: Tensor, sizes: List[int], w: List[Tensor], layers: int, bidirectional: bool,
                attention: bool, hidden: int, exp_avgs: List[Tensor], exp_avg_sqs: List[Tensor],
                steps: List[Tensor], lr: float, beta1: float, beta2: float, weight_decay: float,
                eps: float) -> Tuple[Tensor, Tensor]:
    """_split_grads, then Adam as torch.optim.Adam(fused=True) does it, unless the loss is not finite."""
    loss, correct, grads = _split_grads(xb, yb, sizes, w, layers, bidirectional, attention, hidden)
    if bool(torch.isfinite(loss)):
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(w, grads, exp_avgs, exp_avg_sqs, [], steps, lr=lr, beta1=beta1, beta2=beta2,
                           weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
    return loss, correct


@functools.cache
def _compiled():
    """(split_grads, split_adam) as TorchScript functions, compiled once per process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "torch.jit.script is deprecated": the fallback covers its removal
        return torch.jit.script(_split_grads), torch.jit.script(_split_adam)


class ScriptedSplitStep(SerialStep):
    """SplitStep's parts and reduction, and Adam, in one TorchScript call per batch."""

    def __init__(self, model: LSTMClassifier, opt: torch.optim.Optimizer, grad_clip: float, parts: int) -> None:
        spec = model.spec
        self.parts = parts
        self.shape = (spec.layers, spec.bidirectional, spec.attention, spec.hidden)
        self.params = list(model.parameters())
        self.split_grads, self.split_adam = _compiled()
        # One thread each, set before the first fork: inter-op threads take this count when they start.
        super().__init__(model, opt, grad_clip, threads_each=1)
        fused = grad_clip == 0 and fused_adam.fusable(opt, self.params)
        self.adam_state = fused_adam.state_tensors(opt, self.params) if fused else None

    @classmethod
    def create(cls, model: LSTMClassifier, opt: torch.optim.Optimizer, grad_clip: float,
               parts: int) -> "ScriptedSplitStep | None":
        """The step, or None where TorchScript cannot compile it or the model is not laid out as
        _logits reads it (LSTM weights first in nn.LSTM's order, then attention, then the head)."""
        spec = model.spec
        lstm = list(model.lstm.parameters())
        head = (3 if spec.attention else 0) + 2
        if (spec.dropout != 0 or len(lstm) != 4 * spec.layers * (2 if spec.bidirectional else 1)
                or len(list(model.parameters())) != len(lstm) + head
                or [id(p) for p in lstm] != [id(p) for p in model.lstm._flat_weights]):
            return None
        try:
            _compiled()
        except Exception:  # no source files (a frozen app), or a torch without TorchScript
            return None
        return cls(model, opt, grad_clip, parts)

    def grads(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        sizes = part_sizes(len(xb), self.parts)
        loss, correct, grads = self.split_grads(xb, yb, sizes, self.params, *self.shape)
        for p, g in zip(self.params, grads):
            p.grad = g
        return loss, correct

    def train_batch(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        if self.adam_state is None:
            return super().train_batch(xb, yb)
        sizes = part_sizes(len(xb), self.parts)
        loss, correct = self.split_adam(xb, yb, sizes, self.params, *self.shape, *self.adam_state,
                                        *fused_adam.hyper(self.opt))
        fused_adam.stepped(self.opt)
        return loss, correct
