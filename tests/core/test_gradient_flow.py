"""core.gradient_flow: dLoss/dh_t per step matches autograd through the model's own module, run one
step at a time; the probe measures on schedule, leaves the parameters' gradients alone and shows
the RNN's gradient vanishing where the LSTM's does not."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lstm_desktop.core.models.gradient_flow import GradientFlowProbe, gradient_norms
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def reference_norms(model: LSTMClassifier, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Direct autograd: the model's own nn.LSTM/GRU/RNN fed one step at a time from its carried
    state, each step's output kept as a node; then the head and the mean cross-entropy."""
    model.eval()
    state = None
    outs = []
    for t in range(x.shape[1]):
        out, state = model.lstm(x[:, t:t + 1], state)
        h_t = out[:, 0]  # equal to the top layer's carried state: make the next step read this node
        if isinstance(state, tuple):
            state = (torch.cat([state[0][:-1], h_t[None]]), state[1])
        else:
            state = torch.cat([state[:-1], h_t[None]])
        outs.append(h_t)
    logits = model.fc(outs[-1]) if model.attn is None else model.fc(
        model.summarize(torch.stack(outs, dim=1), None)[0])
    loss = F.cross_entropy(logits, y)
    grads = torch.autograd.grad(loss, outs)
    return torch.stack([g.norm(dim=1) for g in grads], dim=1).mean(dim=0)


def tiny(cell: str, **kw) -> tuple[LSTMClassifier, torch.Tensor, torch.Tensor]:
    torch.manual_seed(3)
    model = LSTMClassifier(ModelSpec(input_size=5, seq_len=12, hidden=7, num_classes=4, cell=cell, **kw))
    x = torch.randn(6, 12, 5, dtype=torch.float32)
    y = torch.randint(0, 4, (6,))
    return model, x, y


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("variant", [{}, {"attention": True}, {"layers": 2, "dropout": 0.3}])
def test_norms_match_autograd_through_the_module(cell, variant):
    model, x, y = tiny(cell, **variant)
    expected = reference_norms(model, x, y)
    got = gradient_norms(model, x, y)
    assert got.shape == (12,)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-7), (got, expected)


def test_last_step_gradient_is_the_heads():
    """dLoss/dh_T = (softmax - onehot) fc.weight / B: nothing comes after the last step."""
    model, x, y = tiny("gru")
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=1)
    direct = (probs - F.one_hot(y, 4)) @ model.fc.weight / len(y)
    assert gradient_norms(model, x, y)[-1].item() == pytest.approx(direct.norm(dim=1).mean().item(), rel=1e-5)


def test_bidirectional_last_step_and_first_step_carry_the_head_gradient():
    model, x, y = tiny("lstm", bidirectional=True)
    norms = gradient_norms(model, x, y)
    assert norms.shape == (12,)
    # perturbing h_t of either direction changes the loss: both ends carry a direct gradient
    assert norms[0] > 0 and norms[-1] > 0


def test_probe_measures_on_schedule_and_leaves_grads_alone():
    model, x, y = tiny("rnn")
    model.train()
    probe = GradientFlowProbe(x, y, every=3, samples=4)
    assert len(probe.x) == 4
    due = [b for b in range(8) if probe.maybe_measure(model, 0, b, 8) is not None]
    assert due == [2, 5, 7]  # every 3rd batch and the epoch's last
    assert all(p.grad is None for p in model.parameters())
    assert model.training  # restored after the eval-mode measurement
    event = probe.maybe_measure(model, 1, 7, 8)
    assert event is not None and event.epoch == 1 and event.progress == 2.0
    assert len(event.norms) == 12 and probe.last == event.norms


def test_rnn_gradient_vanishes_where_lstm_keeps_it():
    """The 1997 paper's point, on untrained models over 100 steps: early/last ratio."""
    torch.manual_seed(0)
    x = torch.nn.functional.one_hot(torch.randint(0, 8, (16, 100)), 8).float()
    y = torch.randint(0, 4, (16,))
    ratios = {}
    for cell in ("rnn", "lstm"):
        torch.manual_seed(0)
        model = LSTMClassifier(ModelSpec(input_size=8, seq_len=100, hidden=32, num_classes=4, cell=cell))
        norms = gradient_norms(model, x, y)
        ratios[cell] = float(norms[15] / norms[-1])
    assert ratios["rnn"] < 1e-3
    assert ratios["lstm"] > 10 * ratios["rnn"]


def test_probe_schedule_for_short_and_long_epochs():
    x, y = torch.zeros(100, 5, 2), torch.zeros(100, dtype=torch.long)
    short = GradientFlowProbe.for_epoch(x, y, batches_per_epoch=157)
    assert [b for b in range(157) if short.due(b, 157)] == [156]  # once, at the epoch's end
    long = GradientFlowProbe.for_epoch(x, y, batches_per_epoch=860)
    assert [b for b in range(860) if long.due(b, 860)] == [214, 429, 644, 859]
    assert len(long.x) == 32
