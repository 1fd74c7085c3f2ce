"""core.introspect: the LSTM equations reproduce nn.LSTM for every variant, and explain() agrees
with the model itself (prediction, row-by-row readout, occlusion, attention)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from lstm_desktop.core.models.checkpoint import Checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.drawing.inference import blank_value, fit_input, torch_threads
from lstm_desktop.core.models.introspect import (STATE_NAMES, STATE_NAMES_BY_CELL, cell_states, decision_row,
                                          explain, explain_input, lstm_states)
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec

TOL = 1e-5
HIDDEN = 24

# (layers, bidirectional, attention, dropout): every variant and their combinations
VARIANTS = {
    "plain": (1, False, False, 0.0),
    "bidirectional": (1, True, False, 0.0),
    "stacked2": (2, False, False, 0.3),
    "stacked3": (3, False, False, 0.5),
    "attention": (1, False, True, 0.0),
    "bidirectional-stacked2": (2, True, False, 0.2),
    "bidirectional-attention": (1, True, True, 0.0),
    "stacked2-attention": (2, False, True, 0.3),
    "bidirectional-stacked3-attention": (3, True, True, 0.4),
}


def make_model(name: str, hidden: int = HIDDEN, seed: int = 0,
               scale: float = 2.0, cell: str = "lstm") -> LSTMClassifier:
    """An eval-mode model of that variant. scale > 1: larger LSTM weights than the default init
    (as training makes them), so that the gates really move and the cells grow."""
    layers, bidirectional, attention, dropout = VARIANTS[name]
    torch.manual_seed(seed)
    model = LSTMClassifier(ModelSpec(hidden=hidden, layers=layers, bidirectional=bidirectional,
                                     attention=attention, dropout=dropout, cell=cell))
    with torch.no_grad():
        for p in model.lstm.parameters():
            p.mul_(scale)
    return model.eval()


def digit_like(seed: int = 0) -> np.ndarray:
    """A normalised 28x28 image: background -1 with a few random bright strokes."""
    rng = np.random.default_rng(seed)
    img = -np.ones((28, 28), np.float32)
    for _ in range(3):
        r, c = rng.integers(3, 22, size=2)
        if rng.random() < 0.5:
            img[r:r + 2, c:c + rng.integers(4, 8)] = 1.0
        else:
            img[r:r + rng.integers(4, 8), c:c + 2] = 1.0
    return img


def reference_layers(lstm: nn.LSTM, x: torch.Tensor) -> list[torch.Tensor]:
    """Every layer's output sequence from PyTorch's own nn.LSTM, one single-layer LSTM per layer
    carrying that layer's weights (nn.LSTM only returns the top layer's outputs)."""
    D = 2 if lstm.bidirectional else 1
    outs, inp = [], x
    for k in range(lstm.num_layers):
        one = nn.LSTM(inp.shape[-1], lstm.hidden_size, batch_first=True,
                      bidirectional=lstm.bidirectional)
        with torch.no_grad():
            for sfx in ["", "_reverse"][:D]:
                for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(one, f"{w}_l0{sfx}").copy_(getattr(lstm, f"{w}_l{k}{sfx}"))
            inp = one.eval()(inp)[0]
        outs.append(inp)
    return outs


@pytest.mark.parametrize("name", list(VARIANTS))
def test_equations_reproduce_nn_lstm(name: str) -> None:
    model = make_model(name)
    lstm = model.lstm
    H, D, L = lstm.hidden_size, 2 if lstm.bidirectional else 1, lstm.num_layers
    torch.manual_seed(1)
    x = torch.randn(4, 28, 28)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x)
        layers = reference_layers(lstm, x)
    st = lstm_states(model, x)

    assert (st.output - out).abs().max().item() <= TOL
    assert (st.h_n - h_n).abs().max().item() <= TOL
    assert (st.c_n - c_n).abs().max().item() <= TOL
    assert sorted(st.states) == [(k, d) for k in range(L) for d in range(D)]
    for k in range(L):
        for d in range(D):
            s = st.states[(k, d)]
            assert set(s) == set(STATE_NAMES)
            for v in s.values():
                assert v.shape == (4, 28, H)
            # every hidden state of every step, this layer and direction, against PyTorch
            ref = layers[k][..., d * H:(d + 1) * H]
            assert (s["hidden"] - ref).abs().max().item() <= TOL
            # final cell state: the forward direction ends at row 28, the backward at row 1
            last = -1 if d == 0 else 0
            assert (s["cell"][:, last] - c_n[k * D + d]).abs().max().item() <= TOL
            assert (s["hidden"][:, last] - h_n[k * D + d]).abs().max().item() <= TOL
            # the notebook's equations hold between the stored quantities at every step
            c_prev = torch.zeros_like(s["cell"])
            if d == 0:
                c_prev[:, 1:] = s["cell"][:, :-1]
            else:
                c_prev[:, :-1] = s["cell"][:, 1:]
            c = s["forget"] * c_prev + s["input"] * s["candidate"]
            assert (c - s["cell"]).abs().max().item() <= TOL
            assert (s["output"] * torch.tanh(s["cell"]) - s["hidden"]).abs().max().item() <= TOL
            for gate in ("input", "forget", "output"):
                assert 0.0 <= s[gate].min().item() and s[gate].max().item() <= 1.0
            assert s["candidate"].abs().max().item() <= 1.0
    # the gates really vary (so the comparisons above are not trivially satisfied)
    assert st.states[(0, 0)]["forget"].std().item() > 0.05


@pytest.mark.parametrize("name", ["plain", "bidirectional-stacked2"])
def test_equations_at_full_size(name: str) -> None:
    # hidden 128 at the default init (with larger weights the cells reach ~15, where float32's
    # rounding alone is ~1e-6 relative, the tolerance above being absolute)
    model = make_model(name, hidden=128, scale=1.0)
    torch.manual_seed(2)
    x = torch.randn(2, 28, 28)
    with torch.no_grad():
        out, (h_n, c_n) = model.lstm(x)
    st = lstm_states(model.lstm, x)  # an nn.LSTM works too
    assert (st.output - out).abs().max().item() <= TOL
    assert (st.h_n - h_n).abs().max().item() <= TOL
    assert (st.c_n - c_n).abs().max().item() <= TOL


def _softmax(model: LSTMClassifier, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(np.ascontiguousarray(x))), dim=1).numpy()


@pytest.mark.parametrize("name", list(VARIANTS))
def test_explain_agrees_with_the_model(name: str) -> None:
    model = make_model(name)
    spec = model.spec
    img = digit_like(2)
    ex = explain(model, img)
    H, D, L = spec.hidden, 2 if spec.bidirectional else 1, spec.layers

    probs = _softmax(model, img[None])[0]
    assert np.abs(ex.probabilities - probs).max() <= TOL
    assert ex.predicted == int(probs.argmax())
    # shapes
    assert ex.readout.shape == (28, 10) and ex.occlusion.shape == (28,)
    assert ex.occlusion_probabilities.shape == (28, 10)
    assert sorted(ex.gates) == [(k, d) for k in range(L) for d in range(D)]
    for states in ex.gates.values():
        assert set(states) == set(STATE_NAMES)
        assert all(v.shape == (28, H) and v.dtype == np.float32 for v in states.values())
    # readout: row t is the model run on rows 1..t only; its last row is the prediction
    assert np.abs(ex.readout[-1] - probs).max() <= TOL
    for t in range(28):
        assert np.abs(ex.readout[t] - _softmax(model, img[None, :t + 1])[0]).max() <= TOL, t
    assert np.allclose(ex.readout.sum(axis=1), 1.0, atol=1e-5)
    # occlusion: row r set to the background value -1, the change of p(predicted)
    occluded = np.repeat(img[None], 28, axis=0)
    occluded[np.arange(28), np.arange(28)] = -1.0
    p_occ = _softmax(model, occluded)
    assert np.abs(ex.occlusion_probabilities - p_occ).max() <= TOL
    assert np.abs(ex.occlusion - (p_occ[:, ex.predicted] - probs[ex.predicted])).max() <= TOL
    # attention: the model's own weights, or None
    if spec.attention:
        with torch.no_grad():
            _, w = model.forward_details(torch.from_numpy(img)[None])
        assert ex.attention is not None and ex.attention.shape == (28,)
        assert np.abs(ex.attention - w[0].numpy()).max() <= TOL
        assert abs(float(ex.attention.sum()) - 1.0) <= 1e-5
    else:
        assert ex.attention is None
    # the gates are the equations' on this image
    st = lstm_states(model, torch.from_numpy(img)[None])
    for key, states in ex.gates.items():
        for gate, v in states.items():
            assert np.abs(v - st.states[key][gate][0].numpy()).max() <= TOL


@pytest.mark.parametrize("name", ["plain", "bidirectional-stacked2"])
def test_explain_with_or_without_its_helper_thread_is_the_same(name: str) -> None:
    model = make_model(name)
    img = digit_like(7)
    a, b = explain(model, img, parallel=True), explain(model, img, parallel=False)
    for field in ("probabilities", "readout", "occlusion", "occlusion_probabilities"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), atol=1e-6)
    assert a.predicted == b.predicted and a.decision_row == b.decision_row


def test_readout_of_a_plain_model_is_the_classifier_on_each_hidden_state() -> None:
    model = make_model("plain")
    img = digit_like(3)
    ex = explain(model, img)
    with torch.no_grad():
        out, _ = model.lstm(torch.from_numpy(img)[None])
        expected = torch.softmax(model.fc(out[0]), dim=1).numpy()  # fc(h_t) for every row t
    assert np.abs(ex.readout - expected).max() <= TOL
    assert int(ex.readout[-1].argmax()) == int(_softmax(model, img[None])[0].argmax())


def test_explain_leaves_a_training_model_in_training_mode() -> None:
    model = make_model("stacked2")
    model.train()
    ex = explain(model, digit_like(4))
    assert model.training and model.lstm.training
    model.eval()
    assert np.abs(ex.probabilities - _softmax(model, digit_like(4)[None])[0]).max() <= TOL


def test_explain_checks_the_shape_and_fit_input_resamples() -> None:
    torch.manual_seed(0)
    small = LSTMClassifier(ModelSpec(input_size=8, seq_len=8, hidden=8)).eval()
    img = digit_like(5)
    with pytest.raises(ValueError, match="fit_input"):
        explain(small, img)
    fitted = fit_input(img, (8, 8))
    assert fitted.shape == (8, 8) and fitted.dtype == np.float32
    assert -1.0 <= fitted.min() and fitted.max() <= 1.0
    ex = explain(small, fitted)
    assert ex.readout.shape == (8, 10) and ex.occlusion.shape == (8,)
    assert ex.gates[(0, 0)]["cell"].shape == (8, 8)
    assert np.array_equal(fit_input(img, (28, 28)), img)  # same shape: unchanged
    assert fit_input(img, (100, 8)) is None and fit_input(None, (8, 8)) is None  # no image input


def test_fit_input_area_resamples_the_digit_box_by_hand() -> None:
    """28x28 -> 8x8 averages MNIST's 20x20 digit box (rows and columns 4..23): each output pixel
    covers 2.5 x 2.5 input pixels, so a 2x2 block of ink in the box's corner fills 4 of its 6.25."""
    img = -np.ones((28, 28), np.float32)
    img[4:6, 4:6] = 1.0  # in the first output pixel
    img[0:4, :] = 1.0  # the margin above the box: outside the digit box, ignored
    img[23, 23] = 1.0  # the box's last pixel: 1 of the 6.25 under the last output pixel
    out = fit_input(img, (8, 8))
    expected = -np.ones((8, 8), np.float32)
    expected[0, 0] = (4 * 1.0 + 2.25 * -1.0) / 6.25  # 0.28
    expected[7, 7] = (1 * 1.0 + 5.25 * -1.0) / 6.25  # -0.68
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_blank_value_is_the_normalised_zero_or_a_one_hot_tasks_zero() -> None:
    spec = ModelSpec()
    assert blank_value() == -1.0  # the notebook's Normalize((0.5,), (0.5,))
    ck = Checkpoint(LSTMClassifier(spec), spec, mean=0.1307, std=0.3081)
    assert blank_value(ck) == pytest.approx(-0.1307 / 0.3081)
    one_hot = Checkpoint(LSTMClassifier(spec), spec, TrainConfig(dataset="temporal-order"))
    assert blank_value(one_hot) == 0.0


def test_explain_input_fills_missing_pixels_fits_and_says_why_not() -> None:
    torch.manual_seed(0)
    small = LSTMClassifier(ModelSpec(input_size=8, seq_len=8, hidden=8)).eval()
    img = digit_like(5)
    holed = img.copy()
    holed[0, :] = np.nan  # a missing row: the blank value
    filled = img.copy()
    filled[0, :] = -1.0
    ex, note = explain_input(small, holed[None], -1.0)  # a (1, 28, 28) batch of one is squeezed
    np.testing.assert_allclose(ex.probabilities, explain(small, fit_input(filled, (8, 8))).probabilities, atol=TOL)
    assert "resampled from 28x28 to 8x8" in note
    same, note = explain_input(make_model("plain"), img, -1.0)
    assert same.image.shape == (28, 28) and note == ""
    sequence = LSTMClassifier(ModelSpec(input_size=8, seq_len=100, num_classes=4)).eval()
    ex, note = explain_input(sequence, img, 0.0)
    assert ex is None and "reads 100x8 sequences" in note


def test_background_value_is_used_for_occlusion() -> None:
    model = make_model("attention")
    img = digit_like(6)
    ex = explain(model, img, background=0.0)
    occluded = np.repeat(img[None], 28, axis=0)
    occluded[np.arange(28), np.arange(28)] = 0.0
    assert np.abs(ex.occlusion_probabilities - _softmax(model, occluded)).max() <= TOL


def test_decision_row() -> None:
    eye = np.eye(10, dtype=np.float32)
    readout = eye[[1, 1, 7, 3, 7, 7, 7]]
    assert decision_row(readout, 7) == 4
    assert decision_row(eye[[7, 7, 7]], 7) == 0
    assert decision_row(eye[[7, 7, 2]], 7) == 3  # never settles on 7


def test_torch_threads_restores_the_setting() -> None:
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_core_introspect_imports_no_qt() -> None:
    code = ("import sys, lstm_desktop.core.models.introspect; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# --- GRU and RNN cells (the long-lag lab) -------------------------------------------------------

CELL_VARIANTS = ["plain", "bidirectional", "stacked2", "bidirectional-stacked2"]


def reference_layers_of(rnn: nn.RNNBase, x: torch.Tensor) -> list[torch.Tensor]:
    """Every layer's output from PyTorch's own module of the same kind, one layer at a time."""
    D = 2 if rnn.bidirectional else 1
    kind = {nn.GRU: dict(), nn.RNN: dict(nonlinearity="tanh")}[type(rnn)]
    outs, inp = [], x
    for k in range(rnn.num_layers):
        one = type(rnn)(inp.shape[-1], rnn.hidden_size, batch_first=True, bidirectional=rnn.bidirectional, **kind)
        with torch.no_grad():
            for sfx in ["", "_reverse"][:D]:
                for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(one, f"{w}_l0{sfx}").copy_(getattr(rnn, f"{w}_l{k}{sfx}"))
            inp = one.eval()(inp)[0]
        outs.append(inp)
    return outs


@pytest.mark.parametrize("cell", ["gru", "rnn"])
@pytest.mark.parametrize("name", CELL_VARIANTS)
def test_gru_and_rnn_equations_reproduce_torch(cell: str, name: str) -> None:
    model = make_model(name, cell=cell, scale=1.5)
    rnn = model.lstm
    assert isinstance(rnn, nn.GRU if cell == "gru" else nn.RNN)
    H, D, L = rnn.hidden_size, 2 if rnn.bidirectional else 1, rnn.num_layers
    torch.manual_seed(1)
    x = torch.randn(3, 28, 28)
    with torch.no_grad():
        out, h_n = rnn(x)
        layers = reference_layers_of(rnn, x)
    st = cell_states(model, x)
    assert st.c_n is None
    assert (st.output - out).abs().max().item() <= TOL
    assert (st.h_n - h_n).abs().max().item() <= TOL
    for k in range(L):
        for d in range(D):
            s = st.states[(k, d)]
            assert tuple(s) == STATE_NAMES_BY_CELL[cell]
            assert (s["hidden"] - layers[k][..., d * H:(d + 1) * H]).abs().max().item() <= TOL
            if cell == "gru":  # h_t = (1 - z) n + z h_{t-1}, between the stored quantities
                h_prev = torch.zeros_like(s["hidden"])
                if d == 0:
                    h_prev[:, 1:] = s["hidden"][:, :-1]
                else:
                    h_prev[:, :-1] = s["hidden"][:, 1:]
                h = (1 - s["update"]) * s["candidate"] + s["update"] * h_prev
                assert (h - s["hidden"]).abs().max().item() <= TOL
                for gate in ("reset", "update"):
                    assert 0.0 <= s[gate].min().item() and s[gate].max().item() <= 1.0
    if cell == "gru":
        assert st.states[(0, 0)]["update"].std().item() > 0.05  # the gates really move


def test_lstm_states_refuses_other_cells() -> None:
    with pytest.raises(TypeError):
        lstm_states(make_model("plain", cell="gru"), torch.zeros(1, 28, 28))


@pytest.mark.parametrize("cell", ["gru", "rnn"])
@pytest.mark.parametrize("name", ["plain", "bidirectional-attention", "stacked2"])
def test_explain_gru_and_rnn_agree_with_the_model(cell: str, name: str) -> None:
    model = make_model(name, cell=cell, scale=1.5)
    img = digit_like(4)
    ex = explain(model, img)
    probs = _softmax(model, img[None])[0]
    assert ex.cell == cell and ex.state_names == STATE_NAMES_BY_CELL[cell]
    assert np.abs(ex.probabilities - probs).max() <= TOL
    for states in ex.gates.values():
        assert tuple(states) == ex.state_names
        assert all(v.shape == (28, HIDDEN) for v in states.values())
    for t in (0, 13, 27):
        assert np.abs(ex.readout[t] - _softmax(model, img[None, :t + 1])[0]).max() <= TOL, t
    occluded = np.repeat(img[None], 28, axis=0)
    occluded[np.arange(28), np.arange(28)] = -1.0
    assert np.abs(ex.occlusion_probabilities - _softmax(model, occluded)).max() <= TOL


def test_explanation_of_an_lstm_names_its_states() -> None:
    ex = explain(make_model("plain"), digit_like(1))
    assert ex.cell == "lstm" and ex.state_names == STATE_NAMES
