"""The CUDA-graph step does SerialStep's maths, and the engine reads losses back in batches.

On a CPU the graph step runs every batch eagerly: its update (torch's fused Adam kernel on the
optimiser's state, torch's clipping) must give bit-identical weights to SerialStep with
torch.optim.Adam(fused=True). Where CUDA exists, the captured and replayed step must train like
the eager one; those tests skip elsewhere. The deferred read-back is tested on CPU by forcing it.
"""

from __future__ import annotations

import math

import pytest
import torch
from kernel_reference import small

from lstm_desktop.core.steps import batch_readout
from lstm_desktop.core.training import engine
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.steps.cuda_graph_step import CudaGraphStep
from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.training.engine import Trainer
from lstm_desktop.core.steps.fast_path import make_step
from lstm_desktop.core.training.optim import make_optimizer
from lstm_desktop.core.steps.torch_steps import SerialStep

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


def batches(n: int, size: int, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(size, 7, 8, generator=gen), torch.randint(0, 10, (size,), generator=gen))
            for _ in range(n)]


def run(step: SerialStep, data, device: torch.device) -> list[float]:
    losses = [step.train_batch(x.to(device), y.to(device))[0] for x, y in data]
    return [float(v) for v in losses]


@pytest.mark.parametrize("name", ["plain", "stacked-bi-attention"])
@pytest.mark.parametrize("clip", [0.0, 0.5])
def test_on_cpu_the_graph_steps_update_is_bit_identical_to_torchs_fused_adam(name, clip):
    cfg = TrainConfig(lr=1e-2, weight_decay=1e-4)
    cpu = torch.device("cpu")
    a, b = small(name), small(name)
    b.load_state_dict(a.state_dict())
    data = batches(4, 16) + batches(1, 5, seed=1)  # the last one of another size, as an epoch's tail
    serial = run(SerialStep(a, make_optimizer(a, cfg, cpu), clip), data, cpu)
    graph = run(CudaGraphStep(b, make_optimizer(b, cfg, cpu), clip, batch_size=16), data, cpu)
    assert serial == graph
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), small(name).parameters()))


def test_the_readout_gives_each_batchs_values_in_order_and_empties():
    readout = batch_readout.BatchReadout(torch.device("cpu"), every_seconds=3600.0)
    for b, (loss, correct) in enumerate([(2.5, 3), (1.25, 4), (float("nan"), 0)]):
        readout.add(b, torch.tensor(loss), torch.tensor(correct), 8, 0.1 * (b + 1))
    assert readout.due() is False  # an hour has not passed: nothing read yet
    values = readout.read()
    assert [v.batch for v in values] == [0, 1, 2]
    assert [v.loss for v in values[:2]] == [2.5, 1.25] and math.isnan(values[2].loss)
    assert [v.accuracy for v in values] == [3 / 8, 4 / 8, 0.0]
    assert [v.lr for v in values] == pytest.approx([0.1, 0.2, 0.3])
    assert readout.read() == [] and readout.due() is False


def test_a_cpu_readout_is_due_after_every_batch():
    readout = batch_readout.BatchReadout(torch.device("cpu"))
    assert readout.due() is False
    readout.add(0, torch.tensor(1.0), torch.tensor(1), 1, 0.1)
    assert readout.due() is True


class _OncePerEpoch(batch_readout.BatchReadout):
    """A readout that waits for the end of the epoch, as a GPU run's does between reads."""

    def __init__(self, device: torch.device) -> None:
        super().__init__(device, every_seconds=1e9)


def fit(cfg: TrainConfig, monkeypatch=None, poison: int | None = None):
    if monkeypatch is not None:
        monkeypatch.setattr(engine, "BatchReadout", _OncePerEpoch)
    data = synthetic_bundle(n=300, seed=0)
    if poison is not None:
        data.train_x[poison, 3, 3] = float("nan")  # the batch that draws this sample gives a NaN loss
    events = []
    result = Trainer(cfg, callbacks=[events.append]).fit(data)
    return result, events


def test_deferred_reads_give_the_same_history_and_events(monkeypatch):
    cfg = TrainConfig(dataset="synthetic", hidden=16, epochs=2, batch_size=32, lr=1e-2, device="cpu", threads=1)
    now, now_events = fit(cfg)
    later, later_events = fit(cfg, monkeypatch)
    assert now.history["batch_loss"] == later.history["batch_loss"]
    assert now.history["val_accuracy"] == later.history["val_accuracy"]
    key = lambda e: (type(e).__name__, getattr(e, "batch", None), getattr(e, "loss", None))  # noqa: E731
    assert [key(e) for e in now_events if type(e).__name__ == "BatchEnded"] == \
        [key(e) for e in later_events if type(e).__name__ == "BatchEnded"]


def test_a_deferred_non_finite_loss_names_its_batch_and_keeps_the_initial_weights(monkeypatch):
    cfg = TrainConfig(dataset="synthetic", hidden=16, epochs=2, batch_size=32, lr=1e-2, device="cpu", threads=1)
    now, _ = fit(cfg, poison=5)
    later, _ = fit(cfg, monkeypatch, poison=5)
    assert now.failure is not None and later.failure is not None and later.failure.kind == "nan"
    assert now.failure.message == later.failure.message and "batch" in later.failure.message
    assert now.history["batch_loss"] == later.history["batch_loss"]  # the batches before the NaN one
    assert all(torch.equal(p, q) for p, q in zip(now.model.parameters(), later.model.parameters()))


@CUDA
@pytest.mark.parametrize("name", ["plain", "stacked-bi-attention", "gru-attention", "rnn-stacked-bi-attention"])
@pytest.mark.parametrize("schedule", ["none", "onecycle"])
def test_on_cuda_the_captured_step_trains_like_the_eager_one(name, schedule):
    cfg = TrainConfig(lr=1e-2, grad_clip=1.0, lr_schedule=schedule)
    device = torch.device("cuda")
    a, b = small(name).to(device), small(name).to(device)
    b.load_state_dict(a.state_dict())
    data = batches(12, 64) + batches(1, 9, seed=1)
    eager = SerialStep(a, make_optimizer(a, cfg, device), cfg.grad_clip)
    graph = make_step(b, b, make_optimizer(b, cfg, device), cfg, device, 64, data_parallel=False)
    assert isinstance(graph, CudaGraphStep)
    sa = torch.optim.lr_scheduler.StepLR(eager.opt, step_size=1, gamma=0.9)
    sb = torch.optim.lr_scheduler.StepLR(graph.opt, step_size=1, gamma=0.9)
    la, lb = [], []
    for x, y in data:
        la.append(eager.train_batch(x.to(device), y.to(device))[0])
        lb.append(graph.train_batch(x.to(device), y.to(device))[0])
        if schedule != "none":
            sa.step()
            sb.step()
    assert graph.replays == 12 - 3  # three warm-up batches, then every full batch from the graph
    assert [float(v) for v in lb] == pytest.approx([float(v) for v in la], rel=1e-4, abs=1e-5)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q, rtol=1e-4, atol=1e-5)


@CUDA
def test_on_cuda_a_seeded_run_learns_the_same_with_and_without_the_graph(monkeypatch):
    cfg = TrainConfig(dataset="synthetic", hidden=32, epochs=3, batch_size=64, lr=1e-2, device="cuda", seed=3)
    graph = Trainer(cfg).fit(synthetic_bundle(n=2000, seed=0))
    monkeypatch.setenv("LSTM_DESKTOP_NO_CUDA_GRAPH", "1")
    eager = Trainer(cfg).fit(synthetic_bundle(n=2000, seed=0))
    assert graph.history["train_loss"] == pytest.approx(eager.history["train_loss"], rel=1e-3)
    assert graph.history["val_accuracy"] == pytest.approx(eager.history["val_accuracy"], abs=0.01)
    assert graph.history["val_accuracy"][-1] > 0.5


def test_a_capture_that_fails_warns_once_and_trains_on_eagerly(monkeypatch):
    cpu = torch.device("cpu")
    cfg = TrainConfig(lr=1e-2)
    a, b = small("plain"), small("plain")
    b.load_state_dict(a.state_dict())
    step = CudaGraphStep(b, make_optimizer(b, cfg, cpu), 0.0, batch_size=16)
    step.on_cuda, step.warmed = True, 3  # as on a GPU after the warm-up batches

    def cannot_capture(*_):
        raise RuntimeError("operation not permitted when stream is capturing\nmore detail")

    monkeypatch.setattr(step, "_capture", cannot_capture)
    data = batches(3, 16)
    with pytest.warns(RuntimeWarning, match="CUDA graph capture failed .operation not permitted"):
        graph = run(step, data, cpu)
    assert step.on_cuda is False and step.graph is None
    assert graph == run(SerialStep(a, make_optimizer(a, cfg, cpu), 0.0), data, cpu)
