"""One LSTMClassifier for every variant: plain, bidirectional, stacked, attention, and combinations,
with an LSTM, GRU or plain tanh RNN cell (the long-lag lab compares them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

CELL_MODULES: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


@dataclass(frozen=True)
class ModelSpec:
    """The architecture, stored in checkpoints so a file rebuilds exactly its own model."""

    input_size: int = 28
    seq_len: int = 28
    hidden: int = 128
    layers: int = 1
    bidirectional: bool = False
    attention: bool = False
    dropout: float = 0.0
    num_classes: int = 10
    cell: str = "lstm"  # "lstm", "gru" or "rnn" (tanh); the recurrent module is always `model.lstm`
    chrono_init: bool = False  # long-lag tasks: gates start remembering ~seq_len steps (see _init_chrono)
    prototypes: int = 0  # an adapted model's remembered drawings (see LSTMClassifier.prototype_boost)
    prototype_threshold: float = 0.8  # cosine similarity from which a remembered drawing counts
    prototype_boost: float = 16.0  # logits added to its digit at similarity 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelSpec":
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in fields})


class LSTMClassifier(nn.Module):
    """Rows of the image are time steps; the summary of the sequence feeds a linear head.

    Without attention the summary is the last hidden state (both directions' final states when
    bidirectional). With attention it is a softmax-weighted sum over all time steps; the weights
    are returned by `forward_details` so the app can draw them over the digit.
    """

    def __init__(self, spec: ModelSpec = ModelSpec()) -> None:
        super().__init__()
        self.spec = spec
        directions = 2 if spec.bidirectional else 1
        if spec.cell not in CELL_MODULES:
            raise ValueError(f"unknown cell {spec.cell!r}; expected one of {', '.join(CELL_MODULES)}")
        kwargs = {"nonlinearity": "tanh"} if spec.cell == "rnn" else {}
        # named `lstm` whatever the cell: checkpoints' state_dict keys are `lstm.*`
        self.lstm: nn.RNNBase = CELL_MODULES[spec.cell](
            spec.input_size, spec.hidden, num_layers=spec.layers, batch_first=True,
            bidirectional=spec.bidirectional, dropout=spec.dropout if spec.layers > 1 else 0.0, **kwargs)
        if spec.chrono_init:
            self._init_chrono()
        elif spec.cell == "lstm":
            self._init_forget_bias()
        features = spec.hidden * directions
        self.attn: nn.Module | None = None
        if spec.attention:
            self.attn = nn.Sequential(nn.Linear(features, features // 2 or 1), nn.Tanh(),
                                      nn.Linear(features // 2 or 1, 1, bias=False))
        self.head_dropout = nn.Dropout(spec.dropout) if spec.dropout > 0 else nn.Identity()
        self.fc = nn.Linear(features, spec.num_classes)
        if spec.prototypes:  # buffers, so checkpoints, copies and ONNX exports carry them
            self.register_buffer("proto_features", torch.zeros(spec.prototypes, features))
            self.register_buffer("proto_onehot", torch.zeros(spec.prototypes, spec.num_classes))

    def _init_forget_bias(self, value: float = 1.0) -> None:
        """Start the forget gates open (bias +1, Jozefowicz et al. 2015) so gradients reach early rows.

        Same parameters and shapes as the notebook's nn.LSTM; only the starting point differs.
        """
        h = self.spec.hidden
        with torch.no_grad():
            for name, param in self.lstm.named_parameters():
                if name.startswith("bias_ih"):
                    param[h:2 * h].add_(value)

    def _init_chrono(self) -> None:
        """Chrono initialisation (Tallec & Ollivier 2018): memory times spread up to the sequence length.

        Why: with the forget bias at +1 an LSTM forgets ~27% a step, so over the temporal order
        problem's ~85-step lag the gradient shrinks ~1e-6 and training sits at chance for many
        epochs. LSTM: forget bias log(U(1, T-1)), input bias its negative (gates closed to
        distractors, as the 1997 paper's negative input-gate biases did); GRU: the update gate's
        bias log(U(1, T-1)) (it keeps h when z ~ 1). Other biases 0. The tanh RNN has no gate.
        """
        spec = self.spec
        h = spec.hidden
        high = max(float(spec.seq_len - 1), 1.0 + 1e-3)
        with torch.no_grad():
            for name, param in self.lstm.named_parameters():
                if not name.startswith("bias"):
                    continue
                param.zero_()
                if not name.startswith("bias_ih"):
                    continue
                memory = torch.log(torch.empty(h).uniform_(1.0, high))
                if spec.cell == "lstm":
                    param[h:2 * h] = memory
                    param[:h] = -memory
                elif spec.cell == "gru":
                    param[h:2 * h] = memory

    def summarize(self, out: torch.Tensor, h_n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(sequence outputs, final states) -> (summary vector, attention weights or None)."""
        if self.attn is not None:
            weights = torch.softmax(self.attn(out).squeeze(-1), dim=1)
            return torch.bmm(weights.unsqueeze(1), out).squeeze(1), weights
        if self.spec.bidirectional:
            return torch.cat([h_n[-2], h_n[-1]], dim=1), None
        return out[:, -1, :], None

    def head(self, summary: torch.Tensor) -> torch.Tensor:
        """Logits from the summary vector: the linear layer, plus the remembered drawings' boost."""
        logits = self.fc(self.head_dropout(summary))
        return logits + self.prototype_boost(summary) if self.spec.prototypes else logits

    def prototype_boost(self, summary: torch.Tensor) -> torch.Tensor:
        """(B, classes) logits added for drawings close to a remembered one (nearest prototypes).

        An adapted model remembers the user's own drawings as unit summary vectors (core/drawing/adapt.py).
        A digit whose nearest remembered drawing has cosine similarity s above the threshold gets
        boost * (s - threshold) / (1 - threshold) added to its logit: a drawing like one the user
        labelled is read as they said, while digits unlike all of them (MNIST's, measured in
        benchmarks/adapt_eval.py) are left alone.
        """
        spec = self.spec
        sim = nn.functional.normalize(summary, dim=1) @ self.proto_features.t()  # (B, P) in [-1, 1]
        onehot = self.proto_onehot
        # per digit, the nearest of its drawings; digits with none get -3 (never above the threshold)
        per_digit = (sim.unsqueeze(2) * onehot - 3.0 * (1.0 - onehot)).amax(dim=1)
        t = spec.prototype_threshold
        return spec.prototype_boost * torch.clamp(per_digit - t, min=0.0) / (1.0 - t)

    def set_prototypes(self, summaries: torch.Tensor | None, labels: torch.Tensor | None = None) -> None:
        """Remember drawings (their summary vectors (P, features) and digits (P,)), or forget them all
        (None). In place: the parameters, and an optimiser holding them, stay the same."""
        for name in ("proto_features", "proto_onehot"):
            self._buffers.pop(name, None)
        if summaries is None or labels is None or len(labels) == 0:
            self.spec = replace(self.spec, prototypes=0)
            return
        features = nn.functional.normalize(summaries.detach().float(), dim=1)
        onehot = nn.functional.one_hot(labels.long(), self.spec.num_classes).float()
        self.register_buffer("proto_features", features.to(self.fc.weight.device))
        self.register_buffer("proto_onehot", onehot.to(self.fc.weight.device))
        self.spec = replace(self.spec, prototypes=int(len(labels)))

    def recurrent(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(outputs (B, T, D*H), final hidden states h_n) for any cell: nn.LSTM also returns c_n."""
        out, state = self.lstm(x)
        return out, state[0] if isinstance(state, tuple) else state

    def forward_details(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        out, h_n = self.recurrent(x)
        summary, weights = self.summarize(out, h_n)
        return self.head(summary), weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_details(x)[0]


def build_model(spec: ModelSpec) -> LSTMClassifier:
    return LSTMClassifier(spec)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
