"""The C kernel for the plain model: it builds here, computes what autograd through nn.LSTM does,
trains like the other steps, and steps aside cleanly where it cannot be built."""

from __future__ import annotations

import platform
import shutil

import pytest
import torch
import torch.nn.functional as F

from lstm_desktop.core import kernel_step
from lstm_desktop.core.config import TrainConfig
from lstm_desktop.core.engine import Trainer, make_optimizer
from lstm_desktop.core.models import LSTMClassifier, ModelSpec
from lstm_desktop.core.steps import SerialStep, make_step

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CAN_BUILD = (platform.system() == "Linux" and platform.machine() == "x86_64" and shutil.which("cc") is not None
             and kernel_step._torch_blas() is not None)


@pytest.fixture
def kernel():
    built = kernel_step.load_kernel()
    if CAN_BUILD:  # where it can be built it must be: no silent fallback on the machines we measure
        assert built is not None
    else:
        pytest.skip("no C compiler or no MKL sgemm in this torch: the engine uses the split steps")
    return built


def plain(hidden: int = 12, features: int = 8, steps: int = 8) -> LSTMClassifier:
    torch.manual_seed(3)
    return LSTMClassifier(ModelSpec(input_size=features, seq_len=steps, hidden=hidden))


@pytest.mark.parametrize("hidden, steps, rows", [(12, 8, 64), (128, 28, 64), (12, 8, 7), (12, 1, 1), (33, 5, 20)])
def test_gradients_loss_and_count_match_autograd_through_nn_lstm(kernel, hidden, steps, rows):
    model = plain(hidden, 8, steps)
    gen = torch.Generator().manual_seed(rows)
    x, y = torch.randn(rows, steps, 8, generator=gen), torch.randint(0, 10, (rows,), generator=gen)
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    expected = torch.autograd.grad(loss, list(model.parameters()))
    step = kernel_step.KernelSplitStep(model, make_optimizer(model, TrainConfig(), torch.device("cpu")), 0.0, 2,
                                       kernel)
    got_loss, correct = step.grads(x, y)
    step.close()
    assert got_loss.item() == pytest.approx(loss.item(), rel=1e-5)
    assert int(correct) == int((logits.argmax(1) == y).sum())
    for (name, p), g in zip(model.named_parameters(), expected):
        scale = g.abs().max().item() + 1e-12
        assert (p.grad - g).abs().max().item() <= 1e-5 * scale, name


def run(model: LSTMClassifier, kernel, fused: bool = True, batches: int = 6, clip: float = 0.0) -> list[float]:
    opt = make_optimizer(model, TrainConfig(lr=1e-2), torch.device("cpu"))
    step = kernel_step.KernelSplitStep(model, opt, clip, 2, kernel) if kernel else SerialStep(model, opt, clip)
    if kernel and not fused:
        step.adam = None  # the optimiser's own step() instead of the fused call
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(batches):
        x, y = torch.randn(40, 8, 8, generator=gen), torch.randint(0, 10, (40,), generator=gen)
        losses.append(float(step.train_batch(x, y)[0]))
    step.close()
    return losses


def test_training_with_the_kernel_follows_the_oneDNN_step(kernel):
    a, b = plain(), plain()
    kernel_losses, serial_losses = run(a, kernel), run(b, None)
    assert kernel_losses == pytest.approx(serial_losses, rel=1e-4)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_fused_adam_call_is_bit_identical_to_the_optimisers_step(kernel):
    a, b = plain(), plain()
    run(a, kernel, fused=True)
    run(b, kernel, fused=False)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_the_kernel_step_is_deterministic(kernel):
    a, b = plain(), plain()
    assert run(a, kernel) == run(b, kernel)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_a_non_finite_loss_leaves_the_weights_alone(kernel):
    model = plain()
    opt = make_optimizer(model, TrainConfig(), torch.device("cpu"))
    step = kernel_step.KernelSplitStep(model, opt, 0.0, 2, kernel)
    x, y = torch.randn(40, 8, 8), torch.randint(0, 10, (40,))
    step.train_batch(x, y)
    before = [p.detach().clone() for p in model.parameters()]
    x[3, 2, 1] = float("nan")
    loss, _ = step.train_batch(x, y)
    step.close()
    assert not torch.isfinite(loss)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))


def test_make_step_uses_the_kernel_for_the_plain_model_on_two_threads(kernel):
    model = plain()
    cfg = TrainConfig(batch_size=64)
    torch.set_num_threads(2)
    step = make_step(model, model, make_optimizer(model, cfg, torch.device("cpu")), cfg, torch.device("cpu"), 64,
                     data_parallel=False)
    step.close()
    assert isinstance(step, kernel_step.KernelSplitStep)
    result = Trainer(TrainConfig(dataset="synthetic", hidden=16, epochs=2, batch_size=32, lr=1e-2, threads=2)).fit(
        __import__("lstm_desktop.core.data", fromlist=["x"]).synthetic_bundle(n=400, seed=0))
    assert result.failure is None and result.history["train_loss"][-1] < result.history["train_loss"][0]


def test_the_kernel_is_built_into_the_cache_and_steps_aside_without_a_compiler(kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    kernel_step.load_kernel.cache_clear()
    try:
        assert kernel_step.load_kernel() is not None
        assert len(list((tmp_path / "cache" / "lstm-desktop").glob("plain_lstm-*.so"))) == 1
        assert not [p for p in (tmp_path / "cache" / "lstm-desktop").iterdir() if p.suffix != ".so"]
        kernel_step.load_kernel.cache_clear()
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))
        monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
        assert kernel_step.load_kernel() is None
        kernel_step.load_kernel.cache_clear()
        monkeypatch.delenv("CC")
        monkeypatch.setenv("LSTM_DESKTOP_NO_KERNEL", "1")
        assert kernel_step.load_kernel() is None
    finally:
        kernel_step.load_kernel.cache_clear()


def test_a_label_outside_the_classes_is_an_error_not_a_read_past_the_logits(kernel):
    model = plain()
    step = kernel_step.KernelSplitStep(model, make_optimizer(model, TrainConfig(), torch.device("cpu")), 0.0, 2,
                                       kernel)
    with pytest.raises(IndexError, match="0..9"):
        step.train_batch(torch.randn(4, 8, 8), torch.tensor([0, 1, 10, 2]))
    step.close()
