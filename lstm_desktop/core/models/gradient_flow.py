"""Gradient flow through time: how much the loss still depends on the recurrent output at each step.

Why: a plain RNN's dLoss/dh_t shrinks geometrically as t moves away from the end, so it cannot
learn what happened long ago; an LSTM's does not. Measured live on a small fixed batch, plotted on
a log axis, it shows the 1997 paper's argument on the user's own run.

norms[t] = mean over the batch of ||dLoss/dh_t||_2, where h_t is the top layer's output at step t
(both directions together when bidirectional) and Loss is the batch's mean cross-entropy, as in
training. The model is put in eval mode for the measurement (no dropout), so it is reproducible.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lstm_desktop.core.training.events import GradientFlowMeasured
from lstm_desktop.core.models.networks import LSTMClassifier

DEFAULT_SAMPLES = 32
DEFAULT_MEASUREMENTS_PER_EPOCH = 4
MIN_EVERY = 150  # batches: one measurement costs ~2-5 training batches (a Python loop over the steps)


def gradient_norms(model: LSTMClassifier, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(T,) mean over the batch of ||dLoss/dh_t||, parameters' .grad untouched.

    dLoss/dh_t is the total derivative that backpropagation through time carries: h_t reaches
    the loss through the head *and* through h_{t+1}, h_{t+2}, ... (with a last-step summary the
    direct part is zero before the end). nn.LSTM's fused kernel keeps no per-step node, so the
    top layer is re-run one step at a time (`_stepwise`) and autograd asked for each step's output.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
            outs, logits = _stepwise(model, x)
            loss = F.cross_entropy(logits, y)
            grads = torch.autograd.grad(loss, outs, allow_unused=True)
        norms = [torch.zeros(len(x), device=x.device) if g is None else g.norm(dim=1) for g in grads]
        return torch.stack(norms, dim=1).mean(dim=0).detach()
    finally:
        model.train(was_training)


def _stepwise(model: LSTMClassifier, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The top layer's per-step outputs (B, D*H) as separate autograd nodes, and the logits.

    Lower layers run whole through the model's own module (eval: no dropout between layers);
    the top layer runs one step at a time with PyTorch's cell functions, the backward direction
    over the reversed sequence. The summary is the model's own (last step / both final states /
    attention), so the loss is the one training minimises.
    """
    rnn, spec = model.lstm, model.spec
    top = spec.layers - 1
    if top > 0:
        with torch.no_grad():  # h_t of the top layer does not reach the lower layers' outputs
            layer_in = _lower_layers(rnn, top)(x)[0]
    else:
        layer_in = x
    T, D, H = x.shape[1], 2 if spec.bidirectional else 1, spec.hidden
    cell = _cell_fn(spec.cell)
    per_dir: list[list[torch.Tensor]] = []
    for d in range(D):
        params = _layer_params(rnn, top, d)
        state = _zero_state(spec.cell, len(x), H, x)
        hs: list[torch.Tensor | None] = [None] * T
        for t in (range(T - 1, -1, -1) if d else range(T)):
            state = cell(layer_in[:, t], state, *params)
            hs[t] = state[0] if isinstance(state, tuple) else state
        per_dir.append(hs)  # type: ignore[arg-type]
    outs = [torch.cat([per_dir[d][t] for d in range(D)], dim=1) if D == 2 else per_dir[0][t] for t in range(T)]
    out = torch.stack(outs, dim=1)
    if spec.bidirectional and model.attn is None:
        summary = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)  # = cat(h_n[-2], h_n[-1])
    else:
        summary = model.summarize(out, out[:, -1].unsqueeze(0))[0]
    return outs, model.head(summary)


def _layer_params(rnn: torch.nn.RNNBase, layer: int, direction: int) -> list[torch.Tensor | None]:
    sfx = f"_l{layer}" + ("_reverse" if direction else "")
    return [getattr(rnn, "weight_ih" + sfx), getattr(rnn, "weight_hh" + sfx),
            getattr(rnn, "bias_ih" + sfx, None), getattr(rnn, "bias_hh" + sfx, None)]


def _lower_layers(rnn: torch.nn.RNNBase, layers: int) -> torch.nn.RNNBase:
    """A module of the same kind holding a copy of rnn's first `layers` layers."""
    kwargs = dict(input_size=rnn.input_size, hidden_size=rnn.hidden_size, num_layers=layers, bias=rnn.bias,
                  batch_first=True, bidirectional=rnn.bidirectional)
    if isinstance(rnn, torch.nn.RNN):
        kwargs["nonlinearity"] = rnn.nonlinearity
    lower = type(rnn)(**kwargs).to(rnn.weight_ih_l0.device, rnn.weight_ih_l0.dtype)
    own = dict(rnn.named_parameters())
    lower.load_state_dict({name: own[name] for name, _ in lower.named_parameters()})
    return lower.eval()


def _zero_state(cell: str, batch: int, hidden: int, like: torch.Tensor):
    h = torch.zeros(batch, hidden, dtype=like.dtype, device=like.device)
    return (h, h.clone()) if cell == "lstm" else h


def _cell_fn(cell: str):
    """One step of the cell with PyTorch's functional kernels (the maths nn.LSTM/GRU/RNN run)."""
    if cell == "lstm":
        return lambda x, s, wi, wh, bi, bh: torch.lstm_cell(x, s, wi, wh, bi, bh)
    if cell == "gru":
        return lambda x, s, wi, wh, bi, bh: torch.gru_cell(x, s, wi, wh, bi, bh)
    return lambda x, s, wi, wh, bi, bh: torch.rnn_tanh_cell(x, s, wi, wh, bi, bh)


class GradientFlowProbe:
    """A small fixed batch measured every `every` optimiser steps and after each epoch's last batch.

    Cost: one forward and backward through the stepwise recurrence of `samples` sequences, about
    2-5 training batches' time (measured: LSTM, 100 steps, hidden 64, 1 thread: 32 samples 0.07 s,
    a torch batch of 64 0.05 s). At most 4 times an epoch and never more often than every
    MIN_EVERY batches, so it stays near 3% of training or less (temporal-order: once an epoch).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, every: int, samples: int = DEFAULT_SAMPLES) -> None:
        self.x = x[:samples]
        self.y = y[:samples]
        self.every = max(1, int(every))
        self.last: tuple[float, ...] | None = None

    @classmethod
    def for_epoch(cls, x: torch.Tensor, y: torch.Tensor, batches_per_epoch: int,
                  per_epoch: int = DEFAULT_MEASUREMENTS_PER_EPOCH,
                  samples: int = DEFAULT_SAMPLES) -> "GradientFlowProbe":
        times = max(1, min(per_epoch, batches_per_epoch // MIN_EVERY))
        return cls(x, y, math.ceil(batches_per_epoch / times), samples)

    def due(self, batch: int, batches: int) -> bool:
        """After every `every`-th batch, and always after an epoch's last one."""
        return (batch + 1) % self.every == 0 or batch + 1 == batches

    def measure(self, model: LSTMClassifier) -> tuple[float, ...]:
        self.last = tuple(float(v) for v in gradient_norms(model, self.x, self.y).cpu())
        return self.last

    def maybe_measure(self, model: LSTMClassifier, epoch: int, batch: int,
                      batches: int) -> GradientFlowMeasured | None:
        if len(self.x) == 0 or not self.due(batch, batches):
            return None
        norms = self.measure(model)
        return GradientFlowMeasured(epoch, batch, epoch + (batch + 1) / batches, norms)
