"""The three training steps do the same maths: serial, split over threads, and split in TorchScript.

The scripted step must match SplitStep bit for bit (same ops, same order) for every variant, through
Adam's state too; the serial step matches both up to float rounding. Also: which step the engine
picks, the fallbacks, and that a non-finite loss leaves the weights alone.
"""

from __future__ import annotations

import pytest
import torch

from lstm_desktop.core import scripted_step
from lstm_desktop.core.config import TrainConfig
from lstm_desktop.core.engine import Trainer, make_optimizer
from lstm_desktop.core.models import LSTMClassifier, ModelSpec
from lstm_desktop.core.scripted_step import ScriptedSplitStep
from lstm_desktop.core.steps import SerialStep, SplitStep, make_step, part_sizes

# UserWarnings are errors here: an LR schedule must not warn that the step skipped optimizer.step().
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.filterwarnings("error::UserWarning")]

VARIANTS = {
    "plain": dict(),
    "bidirectional": dict(bidirectional=True),
    "stacked": dict(layers=2),
    "attention": dict(attention=True),
    "bi-attention": dict(bidirectional=True, attention=True),
    "stacked-bi-attention": dict(layers=2, bidirectional=True, attention=True),
}
BATCHES = (64, 20, 7, 1)  # 64 splits 34/30, 7 splits 4/3, a single sample does not split at all


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    n = sum(BATCHES)
    return torch.randn(n, 8, 8, generator=gen), torch.randint(0, 10, (n,), generator=gen)


def model_and_opt(spec: ModelSpec, cfg: TrainConfig) -> tuple[LSTMClassifier, torch.optim.Optimizer]:
    torch.manual_seed(1)
    model = LSTMClassifier(spec)
    return model, make_optimizer(model, cfg, torch.device("cpu"))


def train(step, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """Every batch in BATCHES, halving the learning rate after each (the step must read it anew)."""
    losses, start = [], 0
    schedule = torch.optim.lr_scheduler.StepLR(step.opt, step_size=1, gamma=0.5)
    for size in BATCHES:
        loss, correct = step.train_batch(x[start:start + size], y[start:start + size])
        assert 0 <= int(correct) <= size
        losses.append(loss)
        schedule.step()
        start += size
    step.close()
    return losses


def run(kind: str, spec: ModelSpec, cfg: TrainConfig):
    model, opt = model_and_opt(spec, cfg)
    if kind == "serial":
        step = SerialStep(model, opt, cfg.grad_clip)
    elif kind == "split":
        step = SplitStep(model, opt, cfg.grad_clip, parts=2)
    else:
        step = ScriptedSplitStep.create(model, opt, cfg.grad_clip, parts=2)
        assert step is not None
    losses = train(step, *data())
    return model, opt, losses


def adam_state(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [t for state in opt.state.values() for t in (state["step"], state["exp_avg"], state["exp_avg_sq"])]


@pytest.mark.parametrize("name", VARIANTS)
def test_scripted_step_matches_split_step_bit_for_bit(name):
    spec = ModelSpec(input_size=8, seq_len=8, hidden=12, **VARIANTS[name])
    cfg = TrainConfig(lr=1e-2, weight_decay=1e-4)
    split_model, split_opt, split_losses = run("split", spec, cfg)
    script_model, script_opt, script_losses = run("scripted", spec, cfg)
    for (key, a), b in zip(split_model.state_dict().items(), script_model.state_dict().values()):
        assert torch.equal(a, b), key
    assert all(torch.equal(a, b) for a, b in zip(split_losses, script_losses))
    assert len(adam_state(script_opt)) == 3 * len(list(script_model.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(adam_state(split_opt), adam_state(script_opt)))
    assert float(adam_state(script_opt)[0]) == len(BATCHES)
    serial_model, _, serial_losses = run("serial", spec, cfg)
    for a, b in zip(serial_model.parameters(), script_model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert not torch.equal(split_model.lstm.weight_hh_l0, model_and_opt(spec, cfg)[0].lstm.weight_hh_l0)


def test_scripted_step_with_clipping_uses_the_optimiser_and_matches_split_step():
    spec = ModelSpec(input_size=8, seq_len=8, hidden=12)
    cfg = TrainConfig(lr=1e-2, grad_clip=0.05)
    split_model, _, _ = run("split", spec, cfg)
    model, opt = model_and_opt(spec, cfg)
    step = ScriptedSplitStep.create(model, opt, cfg.grad_clip, parts=2)
    assert step is not None and step.adam_state is None  # clipping sits between gradients and Adam
    train(step, *data())
    assert all(torch.equal(a, b) for a, b in zip(split_model.parameters(), model.parameters()))


@pytest.mark.parametrize("fused", [True, False])
def test_a_non_finite_loss_leaves_weights_and_adam_state_alone(fused):
    spec = ModelSpec(input_size=8, seq_len=8, hidden=12)
    model, opt = model_and_opt(spec, TrainConfig(lr=1e-2, grad_clip=0.0 if fused else 1.0))
    step = ScriptedSplitStep.create(model, opt, 0.0 if fused else 1.0, parts=2)
    x, y = data()
    step.train_batch(x[:20], y[:20])
    before = [t.clone() for t in list(model.parameters()) + adam_state(opt)]
    x[25, 3, 3] = float("nan")
    loss, _ = step.train_batch(x[20:40], y[20:40])
    assert not torch.isfinite(loss)
    after = list(model.parameters()) + adam_state(opt)
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    step.close()


def test_other_optimisers_are_stepped_by_the_optimiser_itself():
    spec = ModelSpec(input_size=8, seq_len=8, hidden=12)
    model = LSTMClassifier(spec)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    step = ScriptedSplitStep.create(model, sgd, 0.0, parts=2)
    assert step is not None and step.adam_state is None
    before = model.fc.weight.detach().clone()
    train(step, *data())
    assert not torch.equal(before, model.fc.weight)


def test_part_sizes_cover_the_batch_with_this_thread_taking_a_little_more():
    assert part_sizes(64, 2) == [34, 30]
    assert part_sizes(20, 2) == [10, 10]
    assert part_sizes(7, 2) == [4, 3]
    assert part_sizes(1, 2) == [1]
    assert part_sizes(64, 4) == [17, 16, 16, 15]
    for n in range(1, 300):
        for parts in (2, 3, 4, 8):
            sizes = part_sizes(n, parts)
            assert sum(sizes) == n and all(s > 0 for s in sizes) and len(sizes) == min(n, parts)
            assert sizes[0] == max(sizes) and max(sizes) - min(sizes) <= 2 + n // (8 * parts)


def choose(threads: int, monkeypatch=None, **changes) -> type:
    cfg = TrainConfig(**({"batch_size": 64} | changes))
    model = LSTMClassifier(ModelSpec(input_size=8, seq_len=8, hidden=12, layers=cfg.layers, dropout=cfg.dropout,
                                     attention=cfg.attention))
    torch.set_num_threads(threads)
    step = make_step(model, model, make_optimizer(model, cfg, torch.device("cpu")), cfg, torch.device("cpu"),
                     cfg.batch_size, data_parallel=False)
    step.close()
    assert torch.get_num_threads() == threads  # close() gives the threads back
    return type(step)


def test_make_step_picks_the_scripted_step_on_two_threads_and_falls_back(monkeypatch):
    assert choose(2, cpu_kernel=False) is ScriptedSplitStep
    assert choose(2, attention=True) is ScriptedSplitStep  # the C kernel trains the plain model only
    assert choose(1) is SerialStep
    assert choose(2, cpu_split=False) is SerialStep
    assert choose(2, layers=2, dropout=0.2) is SerialStep  # dropout draws random numbers per part
    assert choose(2, batch_size=16) is SerialStep  # parts under 16 samples are not worth a thread
    assert choose(4, batch_size=32) is SplitStep  # two parts of two threads each: not scripted

    def no_torchscript():
        raise OSError("could not get source code")

    monkeypatch.setattr(scripted_step, "_compiled", no_torchscript)
    assert choose(2, cpu_kernel=False) is SplitStep


def test_trainer_on_two_threads_is_reproducible_and_learns():
    from lstm_desktop.core.data import synthetic_bundle

    torch.set_num_threads(2)
    cfg = TrainConfig(dataset="synthetic", hidden=16, epochs=3, batch_size=32, lr=1e-2, threads=2)
    first = Trainer(cfg).fit(synthetic_bundle(n=400, seed=0))
    second = Trainer(cfg).fit(synthetic_bundle(n=400, seed=0))
    assert first.history["train_loss"] == second.history["train_loss"]
    assert all(torch.equal(a, b) for a, b in zip(first.model.parameters(), second.model.parameters()))
    assert first.history["train_loss"][-1] < first.history["train_loss"][0]
