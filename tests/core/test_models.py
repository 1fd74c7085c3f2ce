"""LSTMClassifier: the notebook's size, the notebook's cell equations, every variant's shapes."""

from __future__ import annotations

import pytest
import torch

from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec, build_model, count_parameters
from training_helpers import VARIANTS


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models: 1 thread is fastest on 2 shared cores


def test_plain_model_has_the_notebooks_parameter_count():
    assert count_parameters(LSTMClassifier(ModelSpec())) == 82_186
    assert count_parameters(build_model(ModelSpec(hidden=128))) == 82_186


def _notebook_lstm(x: torch.Tensor, w_ih, w_hh, b_ih, b_hh) -> torch.Tensor:
    """The notebook's equations, one step at a time; PyTorch's gate order is i, f, g, o."""
    batch, steps, _ = x.shape
    hidden = w_hh.shape[1]
    h = torch.zeros(batch, hidden, dtype=x.dtype)
    c = torch.zeros(batch, hidden, dtype=x.dtype)
    outs = []
    for t in range(steps):
        gates = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = gates.chunk(4, dim=1)
        i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.tanh(g)
        c = f * c + i * g
        h = o * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs, dim=1)


def test_cell_from_the_notebooks_equations_matches_nn_lstm():
    torch.manual_seed(0)
    model = LSTMClassifier(ModelSpec()).eval()
    x = torch.randn(4, 28, 28)
    lstm = model.lstm
    with torch.no_grad():
        ref = _notebook_lstm(x, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)
        out, (h_n, c_n) = lstm(x)
        assert out.shape == ref.shape == (4, 28, 128)
        assert (out - ref).abs().max().item() <= 1e-5  # all 28 steps
        assert (h_n[0] - ref[:, -1]).abs().max().item() <= 1e-5
        logits = model(x)
        assert (logits - model.fc(ref[:, -1])).abs().max().item() <= 1e-5


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_has_the_right_shapes(name):
    spec = ModelSpec(hidden=12, **VARIANTS[name])
    model = LSTMClassifier(spec).eval()
    x = torch.randn(5, 28, 28)
    with torch.no_grad():
        logits, weights = model.forward_details(x)
    assert logits.shape == (5, 10)
    assert torch.isfinite(logits).all()
    if spec.attention:
        assert weights is not None and weights.shape == (5, 28)
        assert torch.allclose(weights.sum(1), torch.ones(5), atol=1e-5)
        assert (weights >= 0).all()
    else:
        assert weights is None
    directions = 2 if spec.bidirectional else 1
    assert model.fc.in_features == 12 * directions
    assert model.lstm.num_layers == spec.layers
    assert model.lstm.dropout == (spec.dropout if spec.layers > 1 else 0.0)


def test_bidirectional_summary_uses_both_final_states():
    torch.manual_seed(1)
    model = LSTMClassifier(ModelSpec(hidden=6, bidirectional=True)).eval()
    x = torch.randn(3, 28, 28)
    with torch.no_grad():
        out, (h_n, _) = model.lstm(x)
        summary, _ = model.summarize(out, h_n)
        # forward direction: last step; backward direction: first step of the output sequence
        assert torch.allclose(summary[:, :6], out[:, -1, :6])
        assert torch.allclose(summary[:, 6:], out[:, 0, 6:])


def test_other_input_sizes_and_class_counts():
    model = LSTMClassifier(ModelSpec(input_size=8, seq_len=8, hidden=8, num_classes=3))
    assert model(torch.randn(2, 8, 8)).shape == (2, 3)


def test_spec_round_trip_ignores_unknown_keys():
    spec = ModelSpec(hidden=64, layers=2, bidirectional=True, attention=True, dropout=0.1)
    data = spec.to_dict() | {"future_field": 1}
    assert ModelSpec.from_dict(data) == spec


def test_dropout_only_active_in_training_mode():
    torch.manual_seed(0)
    model = LSTMClassifier(ModelSpec(hidden=8, layers=2, dropout=0.5))
    x = torch.randn(4, 28, 28)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
        model.train()
        assert not torch.equal(model(x), model(x))


# --- cells: GRU and tanh RNN (the long-lag lab) --------------------------------------------------

@pytest.mark.parametrize("cell, module", [("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU), ("rnn", torch.nn.RNN)])
@pytest.mark.parametrize("variant", ["plain", "bidirectional", "bi+stacked+attention"])
def test_every_cell_builds_every_variant(cell, module, variant):
    spec = ModelSpec(input_size=8, seq_len=30, hidden=10, num_classes=4, cell=cell, **VARIANTS[variant])
    model = LSTMClassifier(spec).eval()
    assert type(model.lstm) is module  # the attribute keeps its name: state_dict keys stay lstm.*
    assert all(k.startswith(("lstm.", "fc.", "attn.")) for k in model.state_dict())
    if cell == "rnn":
        assert model.lstm.nonlinearity == "tanh"
    x = torch.randn(3, 30, 8)
    with torch.no_grad():
        logits, _ = model.forward_details(x)
        out, h_n = model.recurrent(x)
    assert logits.shape == (3, 4)
    assert out.shape == (3, 30, 10 * (2 if spec.bidirectional else 1))
    assert h_n.shape == (spec.layers * (2 if spec.bidirectional else 1), 3, 10)
    if not spec.attention:  # the summary: last step, or both directions' final states
        expected = model.fc(model.summarize(out, h_n)[0])
        assert torch.allclose(logits, expected)


def test_gru_and_rnn_classifiers_are_the_torch_modules_plus_the_head():
    torch.manual_seed(0)
    for cell in ("gru", "rnn"):
        model = LSTMClassifier(ModelSpec(input_size=8, seq_len=20, hidden=9, num_classes=4, cell=cell)).eval()
        x = torch.randn(2, 20, 8)
        with torch.no_grad():
            out, _ = model.lstm(x)
            assert torch.allclose(model(x), model.fc(out[:, -1]))


def test_forget_bias_only_for_lstm_and_old_specs_load_as_lstm():
    torch.manual_seed(0)
    lstm = LSTMClassifier(ModelSpec(hidden=5))
    assert lstm.lstm.bias_ih_l0[5:10].mean() > 0.5  # +1 over a default init within +-1/sqrt(5)
    assert ModelSpec.from_dict({"hidden": 5}).cell == "lstm"
    assert not ModelSpec.from_dict({"hidden": 5}).chrono_init
    with pytest.raises(ValueError, match="unknown cell"):
        LSTMClassifier(ModelSpec(cell="transformer"))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_chrono_init_opens_the_memory_gates_for_the_sequence_length(cell):
    torch.manual_seed(0)
    h = 16
    model = LSTMClassifier(ModelSpec(input_size=8, seq_len=100, hidden=h, num_classes=4, cell=cell,
                                     chrono_init=True))
    b_ih, b_hh = model.lstm.bias_ih_l0.detach(), model.lstm.bias_hh_l0.detach()
    assert torch.count_nonzero(b_hh) == 0
    memory = b_ih[h:2 * h]  # LSTM forget gate / GRU update gate
    assert 0.0 <= memory.min() and memory.max() <= torch.log(torch.tensor(99.0)) + 1e-6
    assert memory.mean() > 2.0  # E[log U(1, 99)] ~ 3.6: memory times of tens of steps
    if cell == "lstm":
        assert torch.equal(b_ih[:h], -memory)  # input gates start mostly closed
        assert torch.count_nonzero(b_ih[2 * h:]) == 0
    else:
        assert torch.count_nonzero(b_ih[:h]) == 0 and torch.count_nonzero(b_ih[2 * h:]) == 0


def test_the_notebook_model_is_unchanged_by_the_cell_option():
    torch.manual_seed(0)
    a = LSTMClassifier(ModelSpec())
    torch.manual_seed(0)
    b = LSTMClassifier(ModelSpec(cell="lstm", chrono_init=False))
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert count_parameters(a) == 82_186
