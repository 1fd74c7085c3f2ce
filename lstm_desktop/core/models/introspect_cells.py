"""GRU and plain-RNN states from their equations, for the "Inside" view of a non-LSTM classifier.

Why: the view shows what each cell keeps and forgets; a GRU has no memory cell but a reset and an
update gate, a tanh RNN only its hidden state. Recomputed from the model's own weights with
PyTorch's equations (gate order r, z, n)::

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh   (W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))     (the candidate)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

in eval mode (no dropout between layers), every layer and direction, the backward direction's
values stored in real step order (as nn.GRU/nn.RNN's output). The tests check them against
nn.GRU and nn.RNN. Pure torch: imports no Qt.
"""

from __future__ import annotations

import torch
from torch import nn

GRU_STATE_NAMES = ("reset", "update", "candidate", "hidden")
RNN_STATE_NAMES = ("hidden",)

StateKey = tuple[int, int]


def _param(rnn: nn.RNNBase, name: str, layer: int, direction: int) -> torch.Tensor | None:
    return getattr(rnn, f"{name}_l{layer}" + ("_reverse" if direction else ""), None)


def gru_rnn_states(rnn: nn.RNNBase, x: torch.Tensor
                   ) -> tuple[dict[StateKey, dict[str, torch.Tensor]], torch.Tensor, torch.Tensor]:
    """(states[(layer, direction)][name] (B, T, H), top output (B, T, D*H), h_n (L*D, B, H))."""
    gru = isinstance(rnn, nn.GRU)
    if not gru and not (isinstance(rnn, nn.RNN) and rnn.nonlinearity == "tanh"):
        raise TypeError(f"expected an nn.GRU or a tanh nn.RNN, got {type(rnn).__name__}")
    if not rnn.batch_first:
        raise ValueError("expects a batch_first module")
    D = 2 if rnn.bidirectional else 1
    H = rnn.hidden_size
    dtype, device = rnn.weight_ih_l0.dtype, rnn.weight_ih_l0.device
    x = x.to(dtype=dtype, device=device)
    B, T, _ = x.shape
    states: dict[StateKey, dict[str, torch.Tensor]] = {}
    h_n = []
    with torch.no_grad():
        layer_in = x
        for k in range(rnn.num_layers):
            outs = []
            for d in range(D):
                w_ih, w_hh = _param(rnn, "weight_ih", k, d), _param(rnn, "weight_hh", k, d)
                b_ih, b_hh = _param(rnn, "bias_ih", k, d), _param(rnn, "bias_hh", k, d)
                seq = layer_in.flip(1) if d else layer_in
                proj = seq @ w_ih.t()  # (B, T, gates*H) for all steps at once
                if b_ih is not None:
                    proj = proj + b_ih
                h = torch.zeros(B, H, dtype=dtype, device=device)
                record: dict[str, list[torch.Tensor]] = {n: [] for n in (GRU_STATE_NAMES if gru else RNN_STATE_NAMES)}
                for s in range(T):
                    rec = h @ w_hh.t()
                    if b_hh is not None:
                        rec = rec + b_hh
                    if gru:
                        r = torch.sigmoid(proj[:, s, :H] + rec[:, :H])
                        z = torch.sigmoid(proj[:, s, H:2 * H] + rec[:, H:2 * H])
                        n = torch.tanh(proj[:, s, 2 * H:] + r * rec[:, 2 * H:])
                        h = (1 - z) * n + z * h
                        record["reset"].append(r)
                        record["update"].append(z)
                        record["candidate"].append(n)
                    else:
                        h = torch.tanh(proj[:, s] + rec)
                    record["hidden"].append(h)
                stacked = {name: torch.stack(v, dim=1) for name, v in record.items()}  # (B, T, H)
                if d:
                    stacked = {name: v.flip(1) for name, v in stacked.items()}
                states[(k, d)] = stacked
                outs.append(stacked["hidden"])
                h_n.append(h)
            layer_in = torch.cat(outs, dim=2) if D == 2 else outs[0]
    return states, layer_in, torch.stack(h_n)
