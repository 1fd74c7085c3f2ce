"""Look inside an LSTMClassifier: gates and cell from the LSTM equations, row-by-row readout,
attention weights and row occlusion, all for one image and in one go. GRU and RNN classifiers get
their own states (introspect_cells.py: reset, update, candidate, hidden / hidden); the rest is the same.

The gates are recomputed from the model's own weights with the notebook's equations, in PyTorch's
gate order (i, f, g, o)::

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh   (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)      (the candidate, c~_t)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

in eval mode (no dropout between layers). `lstm_states` does it for a batch, for every layer and
direction, and reproduces `nn.LSTM` to float32 rounding (the tests check this for every variant).

Definitions used by `explain` (the view's help text repeats them in plain words):

- **readout[t]**: the model's class probabilities when the image *ends after row t+1*, i.e. the
  whole classifier (all layers, both directions, attention, head) run on rows 1..t+1 only. For a
  unidirectional model without attention this is exactly ``softmax(fc(h_t))`` of the top layer of
  the full run; with attention it is the attention pooled over rows 1..t+1 (weights renormalised
  over those rows). For a bidirectional model the backward direction then starts at row t+1 and
  reads back to row 1, so no row below t+1 ever influences readout[t]: the strip answers honestly
  "what would the model say if it had only seen this much of the digit?". The last row of the
  readout is the model's ordinary prediction.
- **occlusion[r]**: p(predicted class | row r set to the background value) minus
  p(predicted class | image). Negative: the row supported the prediction.
- **gates**: for the backward direction, row t holds the values when that direction read row t
  (having read rows T..t), the same layout as `nn.LSTM`'s output.

Pure torch + numpy: imports no Qt.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Iterator, Union

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_desktop.core.drawing.inference import blank_value, fit_input, torch_threads
from lstm_desktop.core.models.introspect_cells import GRU_STATE_NAMES, RNN_STATE_NAMES, gru_rnn_states
from lstm_desktop.core.models.networks import LSTMClassifier

GATE_NAMES = ("input", "forget", "candidate", "output")
STATE_NAMES = GATE_NAMES + ("cell", "hidden")
STATE_NAMES_BY_CELL = {"lstm": STATE_NAMES, "gru": GRU_STATE_NAMES, "rnn": RNN_STATE_NAMES}
DIRECTION_NAMES = ("forward", "backward")
BACKGROUND = blank_value()  # a blank pixel after the notebook's Normalize((0.5,), (0.5,)): -1.0

StateKey = tuple[int, int]  # (layer, direction): direction 0 forward, 1 backward


@dataclass
class LSTMStates:
    """Everything `lstm_states` computed for a batch (all tensors float32, batch first).

    states[(layer, direction)][name] has shape (B, T, hidden) for name in STATE_NAMES (for a GRU
    or RNN: STATE_NAMES_BY_CELL[cell]); output is the top layer's output as nn.LSTM returns it,
    (B, T, directions*hidden); h_n and c_n are (layers*directions, B, hidden), in nn.LSTM's order
    (c_n None for a GRU or RNN, which have no memory cell).
    """

    states: dict[StateKey, dict[str, torch.Tensor]]
    output: torch.Tensor
    h_n: torch.Tensor
    c_n: torch.Tensor | None


@dataclass
class Explanation:
    """What the "Inside the LSTM" view draws, as plain numpy arrays (T rows, C classes).

    probabilities (C,), predicted int, readout (T, C), gates[(layer, direction)][name] (T, hidden)
    for name in STATE_NAMES, attention (T,) or None, occlusion (T,) change of the predicted class's
    probability with row r blanked, occlusion_probabilities (T, C), image (T, F) the input used,
    decision_row: the first row index (0-based) from which the readout's top class stays the
    prediction (T if it never settles). layers, directions, hidden: the model's shape.
    cell: "lstm", "gru" or "rnn"; state_names: the names in each gates[key], in display order.
    """

    probabilities: np.ndarray
    predicted: int
    readout: np.ndarray
    gates: dict[StateKey, dict[str, np.ndarray]]
    attention: np.ndarray | None
    occlusion: np.ndarray
    occlusion_probabilities: np.ndarray
    image: np.ndarray
    decision_row: int
    layers: int = 1
    directions: int = 1
    hidden: int = 0
    cell: str = "lstm"
    state_names: tuple[str, ...] = STATE_NAMES

    @property
    def keys(self) -> list[StateKey]:
        return sorted(self.gates)


def _lstm_of(model: Union[LSTMClassifier, nn.LSTM]) -> nn.LSTM:
    lstm = model.lstm if isinstance(model, LSTMClassifier) else model
    if not isinstance(lstm, nn.LSTM):
        raise TypeError(f"expected an LSTMClassifier or nn.LSTM, got {type(model).__name__}")
    if not lstm.batch_first:
        raise ValueError("lstm_states expects a batch_first LSTM")
    if lstm.proj_size:
        raise ValueError("LSTMs with proj_size are not supported")
    return lstm


def lstm_states(model: Union[LSTMClassifier, nn.LSTM], x: torch.Tensor) -> LSTMStates:
    """Run the LSTM equations with the model's weights on x (B, T, F), eval semantics (no dropout
    between layers), keeping every gate and state of every sequence, layer and direction.

    Vectorised: the input projection W_ih x + b_ih + b_hh is one matrix product per layer for all
    time steps, sequences and both directions; the recurrence is then T small batched steps per
    layer, in which the forward and backward directions advance together (the backward one on the
    time-reversed sequence). Gates and states of the backward direction are stored in real row
    order, like nn.LSTM's output.
    """
    lstm = _lstm_of(model)
    D = 2 if lstm.bidirectional else 1
    H = lstm.hidden_size
    if x.ndim == 2:
        x = x.unsqueeze(0)
    dtype, device = lstm.weight_ih_l0.dtype, lstm.weight_ih_l0.device
    x = x.to(dtype=dtype, device=device)
    B, T, _ = x.shape
    states: dict[StateKey, dict[str, torch.Tensor]] = {}
    h_n, c_n = [], []
    with torch.no_grad():
        layer_in = x
        for k in range(lstm.num_layers):
            sfx = [f"_l{k}", f"_l{k}_reverse"][:D]
            w_ih = torch.cat([getattr(lstm, "weight_ih" + s) for s in sfx])  # (D*4H, F)
            w_hh_t = torch.stack([getattr(lstm, "weight_hh" + s) for s in sfx]).transpose(1, 2)
            flat_in = layer_in.reshape(B * T, -1)
            if lstm.bias:
                bias = torch.cat([getattr(lstm, "bias_ih" + s) + getattr(lstm, "bias_hh" + s)
                                  for s in sfx])  # (D*4H,)
                proj = torch.addmm(bias, flat_in, w_ih.t())
            else:
                proj = flat_in @ w_ih.t()
            # time-major (T, D, B, 4H) so that each step reads one contiguous block; the backward
            # direction's time axis reversed so that both directions run s = 0..T-1 together
            proj = proj.view(B, T, D, 4 * H)
            pre = torch.empty(T, D, B, 4 * H, dtype=dtype, device=device)
            pre[:, 0] = proj[:, :, 0].transpose(0, 1)
            if D == 2:
                pre[:, 1] = proj[:, :, 1].flip(1).transpose(0, 1)
            h = torch.zeros(D, B, H, dtype=dtype, device=device)
            c = torch.zeros(D, B, H, dtype=dtype, device=device)
            acts, cands, cells, hiddens = [], [], [], []
            for s in range(T):
                z = torch.baddbmm(pre[s], h, w_hh_t)  # (D, B, 4H): i, f, g, o pre-activations
                a = torch.sigmoid(z)  # i, f, o (the g slice of `a` is unused)
                g = torch.tanh(z[..., 2 * H:3 * H])
                c = torch.addcmul(a[..., H:2 * H] * c, a[..., :H], g)
                h = a[..., 3 * H:] * torch.tanh(c)
                hiddens.append(h)
                acts.append(a)
                cands.append(g)
                cells.append(c)
            # back to batch-first, real time order (the backward direction flipped back)
            hs = torch.stack(hiddens)  # (T, D, B, H)
            out = torch.empty(B, T, D, H, dtype=dtype, device=device)
            out[:, :, 0] = hs[:, 0].transpose(0, 1)
            if D == 2:
                out[:, :, 1] = hs[:, 1].flip(0).transpose(0, 1)
            act_t, cand_t, cell_t = (torch.stack(v, dim=2) for v in (acts, cands, cells))
            hid_t = out.permute(2, 0, 1, 3)  # (D, B, T, H)
            for d in range(D):
                back = (lambda t: t.flip(1)) if d == 1 else (lambda t: t)
                states[(k, d)] = {
                    "input": back(act_t[d, ..., :H]), "forget": back(act_t[d, ..., H:2 * H]),
                    "candidate": back(cand_t[d]), "output": back(act_t[d, ..., 3 * H:]),
                    "cell": back(cell_t[d]), "hidden": hid_t[d],
                }
            for d in range(D):
                h_n.append(h[d])
                c_n.append(c[d])
            layer_in = out.view(B, T, D * H)  # no dropout between layers: eval
    return LSTMStates(states, layer_in, torch.stack(h_n), torch.stack(c_n))


def cell_states(model: LSTMClassifier, x: torch.Tensor) -> LSTMStates:
    """`lstm_states` for an LSTM classifier; the GRU or RNN equations for the other cells."""
    if isinstance(model.lstm, nn.LSTM):
        return lstm_states(model, x)
    if x.ndim == 2:
        x = x.unsqueeze(0)
    states, output, h_n = gru_rnn_states(model.lstm, x)
    return LSTMStates(states, output, h_n, None)


def summarize(model: LSTMClassifier, out: torch.Tensor, lengths: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The model's summary of padded LSTM outputs (B, T, D*H) whose sequence b ends after
    lengths[b] rows (all T when None): what `LSTMClassifier.summarize` computes, for sequences of
    any length. Attention is softmaxed over each sequence's own rows; without attention the summary
    is the forward direction's last state (and, when bidirectional, the backward direction's state
    after reading back to row 1). Returns (summary (B, D*H), attention weights (B, T) or None)."""
    B, T, _ = out.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    lengths = lengths.to(out.device)
    if model.attn is not None:
        scores = model.attn(out).squeeze(-1)
        mask = torch.arange(T, device=out.device)[None, :] < lengths[:, None]
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
        return torch.bmm(weights.unsqueeze(1), out).squeeze(1), weights
    last = out[torch.arange(B, device=out.device), lengths - 1]
    if model.spec.bidirectional:
        H = model.spec.hidden
        return torch.cat([last[:, :H], out[:, 0, H:]], dim=1), None
    return last, None


def _head(model: LSTMClassifier, out: torch.Tensor, lengths: torch.Tensor | None = None
          ) -> tuple[torch.Tensor, torch.Tensor | None]:
    summary, weights = summarize(model, out, lengths)
    return model.head(summary), weights


def decision_row(readout: np.ndarray, predicted: int) -> int:
    """First row index from which the readout's top class is the prediction to the end
    (len(readout) - 1 when only the last row agrees, len(readout) if even that one does not)."""
    top = readout.argmax(axis=1)
    row = len(top)
    for t in range(len(top) - 1, -1, -1):
        if top[t] != predicted:
            break
        row = t
    return row


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstm-introspect")
        return _POOL


def _occlusion_probabilities(model: LSTMClassifier, x: torch.Tensor, background: float,
                             threads: int | None) -> torch.Tensor:
    """(T, C) probabilities of the T copies of x (1, T, F) with row r set to the background."""
    with torch_threads(threads), torch.inference_mode():
        T = x.shape[1]
        rows = torch.arange(T)
        occluded = x.expand(T, -1, -1).clone()
        occluded[rows, rows, :] = background
        return torch.softmax(_head(model, model.lstm(occluded)[0])[0], dim=1)


def explain(model: LSTMClassifier, image: np.ndarray, background: float = BACKGROUND,
            threads: int | None = 1, parallel: bool | None = None) -> Explanation:
    """Everything the view shows for one model-ready image (T, F), in eval mode, without gradients.

    background: the value a blank pixel has in the model's input (occlusion sets a row to it).
    threads: torch intra-op threads for the call (see `torch_threads`); None keeps torch's setting.
    parallel: compute the occlusion batch on a helper thread while this one does the rest;
    None (default): only for bidirectional models, whose two big batches (occlusion, prefixes)
    balance the two threads; a unidirectional model's work is too small to gain from it.

    Cost: the gate recurrence on the single image (which also gives its prediction, attention and,
    for unidirectional models, the whole readout), one batch of the T occluded copies through the
    model's own nn.LSTM and, for bidirectional models only, one packed batch of the T-1 shorter
    prefixes. With `parallel`, the occlusion batch (about half the work) runs on a helper thread:
    two independent single-threaded computations can use two cores without OpenMP's barriers, and
    on a busy machine they simply share what there is.
    """
    img = np.asarray(image, dtype=np.float32)
    spec = model.spec
    if img.shape != (spec.seq_len, spec.input_size):
        raise ValueError(f"image shape {img.shape} does not match the model's "
                         f"({spec.seq_len}, {spec.input_size}); use fit_input first")
    T = img.shape[0]
    use_helper = spec.bidirectional if parallel is None else parallel
    was_training = model.training
    model.eval()
    future: Future | None = None
    try:
        param = next(model.parameters())
        with torch_threads(threads), torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(img)).to(param.device, param.dtype)[None]
            # occlusion: the T copies with one row blanked, one batch through the model's nn.LSTM
            if use_helper:
                future = _pool().submit(_occlusion_probabilities, model, x, background, threads)
            st = cell_states(model, x)  # the gates, from the equations
            out = st.output  # (1, T, D*H)
            logits, weights = _head(model, out)
            probs = torch.softmax(logits[0], dim=0)
            predicted = int(probs.argmax())
            if spec.bidirectional and T > 1:
                # the prefixes of 1..T-1 rows, packed: each backward direction starts at its own
                # last row; the full-length prefix is the image itself
                lengths = torch.arange(T - 1, 0, -1)
                packed = pack_padded_sequence(x.expand(T - 1, -1, -1), lengths, batch_first=True)
                out_p, _ = pad_packed_sequence(model.lstm(packed)[0], batch_first=True,
                                               total_length=T)
                prefix_logits = _head(model, out_p, lengths)[0].flip(0)
                readout = torch.softmax(torch.cat([prefix_logits, logits]), dim=1)
            else:
                # a unidirectional LSTM's states after row t are the same whatever follows
                readout_logits, _ = _head(model, out.expand(T, -1, -1), torch.arange(1, T + 1))
                readout = torch.softmax(readout_logits, dim=1)
            if future is not None:
                occ_probs = future.result()
                future = None
            else:
                occ_probs = _occlusion_probabilities(model, x, background, threads)
        to_np = lambda t: t.detach().float().cpu().numpy()  # noqa: E731
        gates = {key: {name: np.ascontiguousarray(to_np(v[0])) for name, v in d.items()}
                 for key, d in st.states.items()}
        readout_np = to_np(readout)
        occ_np = to_np(occ_probs)
        probs_np = to_np(probs)
        return Explanation(
            probabilities=probs_np,
            predicted=predicted,
            readout=readout_np,
            gates=gates,
            attention=to_np(weights[0]) if weights is not None else None,
            occlusion=occ_np[:, predicted] - probs_np[predicted],
            occlusion_probabilities=occ_np,
            image=img,
            decision_row=decision_row(readout_np, predicted),
            layers=spec.layers,
            directions=2 if spec.bidirectional else 1,
            hidden=spec.hidden,
            cell=spec.cell,
            state_names=STATE_NAMES_BY_CELL[spec.cell],
        )
    finally:
        if future is not None:  # an error above: let the helper finish before the mode changes
            wait([future])
        if was_training:
            model.train()


def explain_input(model: LSTMClassifier, image: np.ndarray, background: float,
                  parallel: bool | None = None) -> tuple[Explanation | None, str]:
    """Explain any input the app holds (a drawing, a test image, NaN for missing pixels) with
    `model`: NaN becomes the blank value, the image is fitted with `fit_input`, then `explain`.

    Returns (explanation, note): the note says when the input was resampled for the model; when
    the model cannot read it (a sequence task and a drawing) the explanation is None and the note
    says why; ValueError when the input is not one image. The worker, the inside view and tools
    all come through here.
    """
    img = np.nan_to_num(np.squeeze(np.asarray(image, dtype=np.float32)), nan=background)
    if img.ndim != 2:
        raise ValueError(f"an input of shape {np.shape(image)} is not one image")
    spec = model.spec
    fitted = fit_input(img, (spec.seq_len, spec.input_size))
    if fitted is None:
        return None, (f"This model reads {spec.seq_len}x{spec.input_size} sequences, not "
                      f"{img.shape[0]}x{img.shape[1]} drawings: pick one of its test samples in the Results tab.")
    note = "" if fitted.shape == img.shape else \
        f" (resampled from {img.shape[0]}x{img.shape[1]} to {spec.seq_len}x{spec.input_size} for this model)"
    return explain(model, fitted, background=background, parallel=parallel), note
