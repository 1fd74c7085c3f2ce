"""The C kernel's step for every variant: gradients as autograd computes them through nn.LSTM (and
GRU / tanh-RNN), training that follows the torch fallback step for step, dropout, determinism, and
the fused Adam call. Skipped where the kernel cannot be built (and checked to build where it can)."""

from __future__ import annotations

import platform
import shutil

import pytest
import torch
import torch.nn.functional as F
from kernel_reference import VARIANTS, reference_logits, small

from lstm_desktop.core.steps import kernel_step
from lstm_desktop.core.steps import native_kernel
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.engine import Trainer
from lstm_desktop.core.training.optim import make_optimizer
from lstm_desktop.core.steps.fast_path import make_step
from lstm_desktop.core.models.networks import LSTMClassifier
from lstm_desktop.core.steps.torch_steps import SerialStep

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CAN_BUILD = (platform.system() == "Linux" and platform.machine() == "x86_64" and shutil.which("cc") is not None
             and native_kernel._torch_blas() is not None)


@pytest.fixture
def kernel():
    built = native_kernel.load_kernel()
    if built is None and CAN_BUILD and not __import__("os").environ.get("LSTM_DESKTOP_NO_KERNEL"):
        pytest.fail("the kernel can be built here but did not load: no silent fallback where we measure")
    if built is None:
        pytest.skip("no kernel here (no C compiler, no MKL sgemm, or LSTM_DESKTOP_NO_KERNEL): torch steps")
    return built


def kernel_step_for(model: LSTMClassifier, kernel, clip: float = 0.0, lr: float = 1e-2, parts: int = 2,
                    threads_each: int = 1):
    opt = make_optimizer(model, TrainConfig(lr=lr), torch.device("cpu"))
    return kernel_step.KernelSplitStep(model, opt, clip, parts, kernel, threads_each)


def grad_errors(model: LSTMClassifier, x, y, got: list[torch.Tensor], masks=None) -> list[tuple[str, float, float]]:
    """(name, kernel error, float32 autograd error), both against float64 autograd, scaled by the
    gradient's size: float32 rounding alone (e.g. the attention bias, a sum that cancels) sets the bar."""
    double = type(model)(model.spec).double() if model.spec.cell == "lstm" else None
    if double is None or type(double.lstm) is not type(model.lstm):
        double = small_like(model).double()
    double.load_state_dict(model.state_dict())
    exact = torch.autograd.grad(F.cross_entropy(reference_logits(double, x.double(), [m.double() for m in masks or []]), y),
                                list(double.parameters()))
    single = torch.autograd.grad(F.cross_entropy(reference_logits(model, x, masks), y), list(model.parameters()))
    errors = []
    for (name, _), g, e, s in zip(model.named_parameters(), got, exact, single):
        scale = e.abs().max().item() + 1e-30
        errors.append((name, (g.double() - e).abs().max().item() / scale, (s.double() - e).abs().max().item() / scale))
    return errors


def small_like(model: LSTMClassifier) -> LSTMClassifier:
    from kernel_reference import build

    return build(model.spec)


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("rows, steps", [(40, 7), (3, 1), (1, 4)])
def test_gradients_loss_and_count_match_autograd(kernel, name, rows, steps):
    model = small(name)
    gen = torch.Generator().manual_seed(rows)
    x, y = torch.randn(rows, steps, 8, generator=gen), torch.randint(0, 10, (rows,), generator=gen)
    logits = model(x) if model.spec.cell == "lstm" else reference_logits(model, x)  # LSTM: through nn.LSTM
    loss = F.cross_entropy(logits, y)
    step = kernel_step_for(model, kernel)
    got_loss, correct = step.grads(x, y)
    step.close()
    assert got_loss.item() == pytest.approx(loss.item(), rel=1e-5)
    assert int(correct) == int((logits.argmax(1) == y).sum())
    for param, kernel_error, torch_error in grad_errors(model, x, y, [p.grad for p in model.parameters()]):
        assert kernel_error <= 1e-5 + 3 * torch_error, (param, kernel_error, torch_error)


@pytest.mark.parametrize("name", ["plain", "stacked-bi-attention", "gru-stacked-bi"])
@pytest.mark.parametrize("parts, threads_each", [(1, 4), (2, 3)])
def test_threads_inside_the_parts_give_the_same_gradients(kernel, name, parts, threads_each):
    """A small batch on many cores: MKL's threads inside each part share out its gate products."""
    model = small(name)
    gen = torch.Generator().manual_seed(5)
    x, y = torch.randn(48, 7, 8, generator=gen), torch.randint(0, 10, (48,), generator=gen)
    before = torch.get_num_threads()
    step = kernel_step_for(model, kernel, parts=parts, threads_each=threads_each)
    got_loss, correct = step.grads(x, y)
    step.close()
    assert torch.get_num_threads() == before
    logits = reference_logits(model, x)
    assert got_loss.item() == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert int(correct) == int((logits.argmax(1) == y).sum())
    for param, kernel_error, torch_error in grad_errors(model, x, y, [p.grad for p in model.parameters()]):
        assert kernel_error <= 1e-5 + 3 * torch_error, (param, kernel_error, torch_error)


def test_the_first_variant_matches_nn_lstm_too(kernel):
    """The reference the other tests use is nn.LSTM's own forward."""
    model = small("stacked-bi-attention")
    x = torch.randn(5, 7, 8)
    torch.testing.assert_close(reference_logits(model, x), model(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["stacked", "stacked-bi-attention", "gru-stacked-bi", "plain"])
def test_dropout_masks_are_applied_as_the_reference_applies_them(kernel, name):
    model = small(name, dropout=0.3)
    step = kernel_step_for(model, kernel)
    x, y = torch.randn(33, 7, 8), torch.randint(0, 10, (33,))
    torch.manual_seed(11)
    loss, _ = step.grads(x, y)
    torch.manual_seed(11)
    masks = step._masks(33, 7)  # the same draws, from the same seed
    step.close()
    assert len(masks) == model.spec.layers and all(bool(((m == 0) | torch.isclose(m, torch.tensor(1 / 0.7))).all()) for m in masks)
    expected = F.cross_entropy(reference_logits(model, x, masks), y)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    for param, kernel_error, torch_error in grad_errors(model, x, y, [p.grad for p in model.parameters()], masks):
        assert kernel_error <= 1e-5 + 3 * torch_error, (param, kernel_error, torch_error)
    model.eval()  # no dropout outside training: the plain forward
    step = kernel_step_for(model, kernel)
    loss, _ = step.grads(x, y)
    step.close()
    assert loss.item() == pytest.approx(F.cross_entropy(reference_logits(model, x), y).item(), rel=1e-5)


def run(model: LSTMClassifier, kernel, fused: bool = True, batches: int = 6, clip: float = 0.0) -> list[float]:
    opt = make_optimizer(model, TrainConfig(lr=1e-2), torch.device("cpu"))
    step = kernel_step.KernelSplitStep(model, opt, clip, 2, kernel) if kernel else SerialStep(model, opt, clip)
    if kernel and not fused:
        step.adam = None  # the optimiser's own step() instead of the fused call
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(batches):
        x, y = torch.randn(40, 7, 8, generator=gen), torch.randint(0, 10, (40,), generator=gen)
        losses.append(float(step.train_batch(x, y)[0]))
    step.close()
    return losses


@pytest.mark.parametrize("name", [n for n in VARIANTS if not n.startswith(("gru", "rnn"))])
def test_training_follows_the_torch_fallback(kernel, name):
    a, b = small(name), small(name)
    kernel_losses, serial_losses = run(a, kernel), run(b, None)
    assert kernel_losses == pytest.approx(serial_losses, rel=1e-4)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("clip", [0.0, 0.05])
def test_fused_adam_call_is_bit_identical_to_the_optimisers_step(kernel, clip):
    a, b = small("bi-attention"), small("bi-attention")
    run(a, kernel, fused=True, clip=clip)
    run(b, kernel, fused=False, clip=clip)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_the_kernel_step_is_deterministic(kernel):
    a, b = small("stacked-bi-attention", dropout=0.2), small("stacked-bi-attention", dropout=0.2)
    torch.manual_seed(5)
    first = run(a, kernel)
    torch.manual_seed(5)
    assert run(b, kernel) == first
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_a_non_finite_loss_leaves_the_weights_alone(kernel):
    model = small("bi-attention")
    step = kernel_step_for(model, kernel)
    x, y = torch.randn(40, 7, 8), torch.randint(0, 10, (40,))
    step.train_batch(x, y)
    before = [p.detach().clone() for p in model.parameters()]
    x[3, 2, 1] = float("nan")
    loss, _ = step.train_batch(x, y)
    step.close()
    assert not torch.isfinite(loss)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))


@pytest.mark.parametrize("name", VARIANTS)
def test_make_step_uses_the_kernel_for_every_variant_on_two_threads(kernel, name):
    model = small(name, dropout=0.1)
    cfg = TrainConfig(batch_size=64)
    torch.set_num_threads(2)
    step = make_step(model, model, make_optimizer(model, cfg, torch.device("cpu")), cfg, torch.device("cpu"), 64,
                     data_parallel=False)
    step.close()
    assert isinstance(step, kernel_step.KernelSplitStep)


def test_models_the_kernel_does_not_compute_use_the_torch_steps(kernel):
    model = small("plain")
    assert kernel_step.supports(model, kernel)
    assert not kernel_step.supports(model.double(), kernel)
    model = small("plain")
    model.lstm = torch.nn.LSTM(8, 12, batch_first=True, proj_size=4)
    assert not kernel_step.supports(model, kernel)


def test_the_engine_trains_a_bilstm_with_attention_on_the_kernel(kernel):
    from lstm_desktop.core.data.image_sets import synthetic_bundle

    cfg = TrainConfig(dataset="synthetic", hidden=16, epochs=2, batch_size=32, lr=1e-2, threads=2,
                      bidirectional=True, attention=True, layers=2, dropout=0.1)
    first = Trainer(cfg).fit(synthetic_bundle(n=400, seed=0))
    second = Trainer(cfg).fit(synthetic_bundle(n=400, seed=0))
    assert first.failure is None and first.history["train_loss"][-1] < first.history["train_loss"][0]
    assert first.history["train_loss"] == second.history["train_loss"]


def test_a_label_outside_the_classes_is_an_error_not_a_read_past_the_logits(kernel):
    step = kernel_step_for(small("plain"), kernel)
    with pytest.raises(IndexError, match="0..9"):
        step.train_batch(torch.randn(4, 7, 8), torch.tensor([0, 1, 10, 2]))
    step.close()
