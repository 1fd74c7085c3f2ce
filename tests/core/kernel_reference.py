"""Shared by the kernel tests: the model variants, and a torch reference forward that takes the same
dropout masks as the kernel (nn.LSTM draws its own), for any cell."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec

VARIANTS = {
    "plain": dict(),
    "bidirectional": dict(bidirectional=True),
    "stacked": dict(layers=2),
    "attention": dict(attention=True),
    "bi-attention": dict(bidirectional=True, attention=True),
    "stacked-bi-attention": dict(layers=3, bidirectional=True, attention=True),
    "gru-stacked-bi": dict(cell="gru", layers=2, bidirectional=True),
    "gru-attention": dict(cell="gru", attention=True),
    "rnn-stacked-bi-attention": dict(cell="rnn", layers=2, bidirectional=True, attention=True),
}
CELL_MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def build(spec: ModelSpec, seed: int = 3) -> LSTMClassifier:
    """LSTMClassifier(spec); where models.py does not build the spec's cell yet, that cell swapped in."""
    torch.manual_seed(seed)
    model = LSTMClassifier(spec)
    module = CELL_MODULES[spec.cell]
    if type(model.lstm) is not module:
        model.lstm = module(spec.input_size, spec.hidden, num_layers=spec.layers, batch_first=True,
                            bidirectional=spec.bidirectional, dropout=spec.dropout if spec.layers > 1 else 0.0)
        model.spec = dataclasses.replace(spec)
    return model


def small(name: str, **changes) -> LSTMClassifier:
    return build(ModelSpec(input_size=8, seq_len=7, hidden=12, **(VARIANTS[name] | changes)))


def reference_logits(model: LSTMClassifier, x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> torch.Tensor:
    """The classifier's forward layer by layer with torch's own recurrent ops; masks as the kernel
    step draws them (one per layer but the last, then the head's)."""
    spec = model.spec
    dirs = 2 if spec.bidirectional else 1
    params = list(model.lstm.parameters())
    inp = x
    for layer in range(spec.layers):
        w = params[4 * dirs * layer: 4 * dirs * (layer + 1)]
        h0 = torch.zeros(dirs, x.shape[0], spec.hidden, dtype=x.dtype)
        if spec.cell == "lstm":
            out = torch.lstm(inp, (h0, h0), w, True, 1, 0.0, True, spec.bidirectional, True)[0]
        elif spec.cell == "gru":
            out = torch.gru(inp, h0, w, True, 1, 0.0, True, spec.bidirectional, True)[0]
        else:
            out = torch.rnn_tanh(inp, h0, w, True, 1, 0.0, True, spec.bidirectional, True)[0]
        inp = out * masks[layer] if masks and layer + 1 < spec.layers else out
    if model.attn is not None:
        weights = torch.softmax(model.attn(out).squeeze(-1), dim=1)
        summary = torch.bmm(weights.unsqueeze(1), out).squeeze(1)
    elif spec.bidirectional:
        summary = torch.cat([out[:, -1, :spec.hidden], out[:, 0, spec.hidden:]], dim=1)
    else:
        summary = out[:, -1]
    if masks:
        summary = summary * masks[-1]
    return model.fc(summary)
