"""The C kernel's build and numerics (issue 13): it matches PyTorch on large weights and on infinite
and NaN inputs, it is built without finite-math-only, and a corrupt cached library is rebuilt."""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F
from kernel_reference import build, reference_logits, small

from lstm_desktop.core.steps import kernel_step
from lstm_desktop.core.steps import native_kernel
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.optim import make_optimizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")
NUMERIC_VARIANTS = ["plain", "stacked-bi-attention", "gru-stacked-bi", "rnn-stacked-bi-attention"]


@pytest.fixture
def kernel():
    built = native_kernel.load_kernel()
    if built is None:
        pytest.skip("no kernel here: the torch steps train instead")
    return built


def kernel_grads(model, kernel, x, y) -> tuple[torch.Tensor, list[torch.Tensor]]:
    step = kernel_step.KernelSplitStep(model, make_optimizer(model, TrainConfig(), torch.device("cpu")), 0.0, 2,
                                       kernel)
    loss, _ = step.grads(x, y)
    step.close()
    return loss, [p.grad.clone() for p in model.parameters()]


def torch_grads(model, x, y, dtype=torch.float32) -> tuple[torch.Tensor, list[torch.Tensor]]:
    if dtype != torch.float32:
        copy = build(model.spec).to(dtype)
        copy.load_state_dict(model.state_dict())
        model, x = copy, x.to(dtype)
    loss = F.cross_entropy(reference_logits(model, x), y)
    return loss.detach(), list(torch.autograd.grad(loss, list(model.parameters())))


@pytest.mark.parametrize("name", NUMERIC_VARIANTS)
@pytest.mark.parametrize("weights, inputs", [(30.0, 1.0), (30.0, 100.0), (1.0, 1e4)])
def test_saturated_gates_match_pytorch_as_closely_as_float32_allows(kernel, name, weights, inputs):
    model = small(name)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(weights)
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(32, 7, 8, generator=gen) * inputs, torch.randint(0, 10, (32,), generator=gen)
    loss, grads = kernel_grads(model, kernel, x, y)
    loss32, grads32 = torch_grads(model, x, y)
    loss64, grads64 = torch_grads(model, x, y, torch.float64)
    assert torch.isfinite(loss)
    # Saturated networks amplify rounding: the kernel's and PyTorch's float32 errors are the same size
    # (over seeds either is the larger), and both are far below what a wrong formula gives.
    assert abs(loss.item() - loss64.item()) <= 3e-5 * loss64.item() + 4 * abs(loss32.item() - loss64.item())
    assert all(bool(torch.isfinite(g).all()) for g in grads)
    errors = [[(a.double() - g64).abs().max().item() / (g64.abs().max().item() + 1e-30) for a in (g, g32)]
              for g, g32, g64 in zip(grads, grads32, grads64)]
    kernel_worst, torch_worst = max(e[0] for e in errors), max(e[1] for e in errors)
    assert kernel_worst <= 1e-4 + 4 * torch_worst, errors


def test_huge_logits_give_pytorchs_large_loss_not_nan(kernel):
    model = small("plain")
    with torch.no_grad():
        model.fc.weight.mul_(2000.0)
    x, y = torch.randn(16, 7, 8), torch.arange(16) % 10
    loss, _ = kernel_grads(model, kernel, x, y)
    expected = F.cross_entropy(model(x), y)
    assert expected.item() > 50 and loss.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("name", NUMERIC_VARIANTS)
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_infinite_and_nan_inputs_give_pytorchs_infs_and_nans(kernel, name, value):
    model = small(name)
    x, y = torch.randn(32, 7, 8), torch.randint(0, 10, (32,))
    x[0, 3, 2] = value
    loss, grads = kernel_grads(model, kernel, x, y)
    expected_loss, expected = torch_grads(model, x, y)
    assert torch.isnan(loss) == torch.isnan(expected_loss)
    if torch.isfinite(expected_loss):
        assert loss.item() == pytest.approx(expected_loss.item(), rel=1e-5)
    for g, e in zip(grads, expected):
        assert torch.equal(g.isnan(), e.isnan()) and torch.equal(g.isinf(), e.isinf())
        finite = torch.isfinite(e)
        torch.testing.assert_close(g[finite], e[finite], rtol=1e-4, atol=1e-6)


def test_the_kernel_is_not_built_with_finite_math_only():
    assert not any("fast-math" in f or "finite-math-only" in f for f in native_kernel.FLAGS)


@pytest.fixture
def fresh_cache(kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    native_kernel.load_kernel.cache_clear()
    yield tmp_path / "cache" / "lstm-desktop"
    native_kernel.load_kernel.cache_clear()


def test_the_kernel_is_built_into_the_cache_with_its_digest(fresh_cache):
    assert native_kernel.load_kernel() is not None
    files = sorted(p.name for p in fresh_cache.iterdir())
    target = native_kernel.library_path()
    assert files == [target.name, target.name + ".sha256"]  # no temporary files left behind
    assert (fresh_cache / files[1]).read_text() == native_kernel._file_digest(target)


@pytest.mark.parametrize("corruption", [b"", b"\x7fELF not really a library", None])
def test_a_corrupt_or_empty_cached_kernel_is_rebuilt(fresh_cache, corruption, monkeypatch):
    assert native_kernel.load_kernel() is not None
    target = native_kernel.library_path()
    good = target.read_bytes()
    if corruption is None:  # a plausible file whose digest file went missing
        os.unlink(native_kernel._digest_path(target))
    else:  # replaced, not written in place: this process has the good one mapped
        (fresh_cache / "bad").write_bytes(corruption)
        os.replace(fresh_cache / "bad", target)
    builds = []
    compile_ = native_kernel._compile
    monkeypatch.setattr(native_kernel, "_compile", lambda t: builds.append(t) or compile_(t))
    native_kernel.load_kernel.cache_clear()
    assert native_kernel.load_kernel() is not None
    assert builds == [target] and len(target.read_bytes()) == len(good)
    assert native_kernel._digest_path(target).read_text() == native_kernel._file_digest(target)


def test_a_kernel_that_fails_its_self_test_is_not_used(fresh_cache, monkeypatch):
    monkeypatch.setattr(native_kernel, "self_test", lambda kernel: False)
    assert native_kernel.load_kernel() is None


def test_without_a_compiler_or_when_turned_off_there_is_no_kernel(fresh_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert native_kernel.load_kernel() is None
    native_kernel.load_kernel.cache_clear()
    monkeypatch.delenv("CC")
    monkeypatch.setenv("LSTM_DESKTOP_NO_KERNEL", "1")
    assert native_kernel.load_kernel() is None
