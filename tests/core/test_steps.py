"""The torch steps (serial, split over threads) do the same maths, and fast_path.make_step picks the
right step, with or without the C kernel (CI runs this file both ways). Also: a non-finite loss
leaves the weights alone, runs are reproducible, CUDA trains like the CPU, and the step modules
import each other without a cycle.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
import torch
from kernel_reference import VARIANTS, small

from lstm_desktop.core.steps import kernel_step
from lstm_desktop.core.steps import native_kernel
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.engine import Trainer
from lstm_desktop.core.training.optim import make_optimizer
from lstm_desktop.core.steps.fast_path import make_step
from lstm_desktop.core.steps.torch_steps import SerialStep, SplitStep, part_sizes

# UserWarnings are errors here: an LR schedule must not warn that the step skipped optimizer.step().
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.filterwarnings("error::UserWarning")]

BATCHES = (64, 20, 7, 1)  # 64 splits 34/30, 7 splits 4/3, a single sample does not split at all
LSTM_VARIANTS = [n for n in VARIANTS if not n.startswith(("gru", "rnn"))]


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    n = sum(BATCHES)
    return torch.randn(n, 7, 8, generator=gen), torch.randint(0, 10, (n,), generator=gen)


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


@pytest.mark.parametrize("name", LSTM_VARIANTS)
def test_split_step_matches_the_serial_step(name):
    cfg = TrainConfig(lr=1e-2, weight_decay=1e-4)
    results = []
    for kind in (SerialStep, SplitStep):
        model = small(name)
        opt = make_optimizer(model, cfg, torch.device("cpu"))
        step = SerialStep(model, opt, 0.0) if kind is SerialStep else SplitStep(model, opt, 0.0, parts=2)
        results.append((model, train(step, *data())))
    (serial, serial_losses), (split, split_losses) = results
    for a, b in zip(serial.parameters(), split.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert [float(v) for v in serial_losses] == pytest.approx([float(v) for v in split_losses], rel=1e-4)
    assert not torch.equal(split.lstm.weight_hh_l0, small(name).lstm.weight_hh_l0)


@pytest.mark.parametrize("kind", ["serial", "split"])
def test_a_non_finite_loss_leaves_the_weights_alone(kind):
    model = small("bi-attention")
    opt = make_optimizer(model, TrainConfig(lr=1e-2), torch.device("cpu"))
    step = SerialStep(model, opt, 0.0) if kind == "serial" else SplitStep(model, opt, 0.0, parts=2)
    x, y = data()
    step.train_batch(x[:20], y[:20])
    before = [p.detach().clone() for p in model.parameters()]
    x[25, 3, 3] = float("nan")
    loss, _ = step.train_batch(x[20:40], y[20:40])
    step.close()
    assert not torch.isfinite(loss)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_part_sizes_cover_the_batch_with_this_thread_taking_a_little_more():
    assert part_sizes(64, 2) == [34, 30]
    assert part_sizes(64, 2, lead=False) == [32, 32]
    assert part_sizes(20, 2) == [10, 10]
    assert part_sizes(7, 2) == [4, 3]
    assert part_sizes(1, 2) == [1]
    assert part_sizes(64, 4) == [17, 16, 16, 15]
    for n in range(1, 300):
        for parts in (2, 3, 4, 8):
            sizes = part_sizes(n, parts)
            assert sum(sizes) == n and all(s > 0 for s in sizes) and len(sizes) == min(n, parts)
            assert sizes[0] == max(sizes) and max(sizes) - min(sizes) <= 2 + n // (8 * parts)


def choose(threads: int, name: str = "plain", dropout: float = 0.0, **changes) -> type:
    cfg = TrainConfig(**({"batch_size": 64} | changes))
    model = small(name, dropout=dropout)
    torch.set_num_threads(threads)
    step = make_step(model, model, make_optimizer(model, cfg, torch.device("cpu")), cfg, torch.device("cpu"),
                     cfg.batch_size, data_parallel=False)
    step.close()
    assert torch.get_num_threads() == threads  # close() gives the threads back
    return type(step)


def test_make_step_picks_the_kernel_where_it_runs_and_the_torch_steps_elsewhere():
    fast = kernel_step.KernelSplitStep if native_kernel.load_kernel() is not None else SplitStep
    if os.environ.get("LSTM_DESKTOP_NO_KERNEL"):
        assert fast is SplitStep  # the fallback pass of CI really runs the torch steps
    assert choose(2) is fast
    assert choose(2, "stacked-bi-attention") is fast
    assert choose(2, "gru-attention") is fast
    assert choose(2, cpu_kernel=False) is SplitStep
    assert choose(2, "stacked", dropout=0.2) is (fast if fast is not SplitStep else SerialStep)
    assert choose(2, "stacked", dropout=0.2, cpu_kernel=False) is SerialStep  # torch draws differ per part
    assert choose(1) is (fast if fast is not SplitStep else SerialStep)  # one core: the kernel in one part
    assert choose(1, cpu_kernel=False) is SerialStep
    assert choose(2, cpu_split=False) is SerialStep
    assert choose(2, batch_size=16) is SerialStep  # parts under 16 samples are not worth a thread
    assert choose(4, batch_size=32) is SplitStep  # two parts of two threads each


def test_trainer_on_two_threads_is_reproducible_and_learns():
    from lstm_desktop.core.data.image_sets import synthetic_bundle

    torch.set_num_threads(2)
    cfg = TrainConfig(dataset="synthetic", hidden=16, epochs=3, batch_size=32, lr=1e-2, threads=2)
    first = Trainer(cfg).fit(synthetic_bundle(n=400, seed=0))
    second = Trainer(cfg).fit(synthetic_bundle(n=400, seed=0))
    assert first.history["train_loss"] == second.history["train_loss"]
    assert all(torch.equal(a, b) for a, b in zip(first.model.parameters(), second.model.parameters()))
    assert first.history["train_loss"][-1] < first.history["train_loss"][0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("name", ["plain", "stacked-bi-attention"])
def test_on_cuda_the_serial_step_trains_like_the_cpu(name):
    cfg = TrainConfig(lr=1e-2)
    device = torch.device("cuda")
    gpu = small(name).to(device)
    step = make_step(gpu, gpu, make_optimizer(gpu, cfg, device), cfg, device, 64, data_parallel=False)
    assert isinstance(step, SerialStep)  # the CUDA-graph step (test_cuda_graph_step.py), SerialStep's maths
    cpu = small(name)
    x, y = data()
    gpu_losses = [float(v) for v in train(step, x.to(device), y.to(device))]
    cpu_losses = [float(v) for v in train(SerialStep(cpu, make_optimizer(cpu, cfg, torch.device("cpu")), 0.0), x, y)]
    assert gpu_losses == pytest.approx(cpu_losses, rel=1e-3, abs=1e-4)


STEP_MODULES = {"torch_steps", "fast_path", "kernel_step", "native_kernel", "fused_adam"}


def test_the_step_modules_import_without_a_cycle_even_inside_functions():
    core = Path(__import__("lstm_desktop.core", fromlist=["x"]).__file__).parent
    graph: dict[str, set[str]] = {}
    for path in core.rglob("*.py"):
        if path.stem == "__init__":
            continue
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names] \
                if isinstance(node, ast.ImportFrom) and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            found |= {n.rsplit(".", 1)[-1] for n in names if n.startswith("lstm_desktop.core.")}
        graph[path.stem] = found
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(d == goal or (d not in seen and not seen.add(d) and reaches(d, goal, seen)) for d in graph[start])

    assert graph["torch_steps"].isdisjoint({"fast_path", "kernel_step", "native_kernel"})
    assert [m for m in sorted(STEP_MODULES) if reaches(m, m, set())] == []
