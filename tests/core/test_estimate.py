"""The pixel-mnist estimate times the step the engine will really take, scaled to the epoch."""

from __future__ import annotations

import pytest

from lstm_desktop.core.training import estimate
from lstm_desktop.core.steps import fast_path
from lstm_desktop.core.training.config import TrainConfig


def _pixel_data(n: int = 80):
    import torch

    from lstm_desktop.core.data.image_sets import DataBundle
    from lstm_desktop.core.data.longlag import to_pixels

    g = torch.Generator().manual_seed(0)
    px, y = to_pixels(torch.rand(n, 6, 6, generator=g)), torch.randint(0, 10, (n,), generator=g)
    cut = n - 16
    return DataBundle("pixel-mnist", px[:cut], y[:cut], px[cut:], y[cut:], px[cut:], y[cut:])


def test_the_estimate_times_the_engines_step_and_scales_to_the_epoch(monkeypatch):
    """Whatever step this machine's core count picks (the C kernel on one thread, torch's split step on
    many), the estimate times the one the engine then trains with."""
    from lstm_desktop.core.training import engine

    used: dict[str, list[str]] = {"estimate": [], "engine": []}
    real = fast_path.make_step

    def spy(who: str):
        def make_step(*args, **kwargs):
            step = real(*args, **kwargs)
            used[who].append(type(step).__name__)
            return step
        return make_step

    monkeypatch.setattr(fast_path, "make_step", spy("estimate"))  # estimate.py looks it up at each call
    monkeypatch.setattr(engine, "make_step", spy("engine"))
    cfg = TrainConfig.for_dataset("pixel-mnist", hidden=16, batch_size=32, epochs=1, val_size=16, device="cpu")
    assert estimate.seconds_per_epoch(cfg, 1, 36, train_size=320, batches=2) > 0
    engine.Trainer(cfg).fit(_pixel_data())  # announces an estimate (timed again), then trains
    assert len(used["engine"]) == 1 and used["estimate"] == [used["engine"][0]] * 2
    if fast_path.torch.get_num_threads() == 1 and fast_path.native_kernel.load_kernel() is not None:
        assert used["engine"] == ["KernelSplitStep"]  # one thread: the C kernel, not the autograd step
    clock = iter(range(0, 1000, 1))  # every step takes exactly one tick of this clock
    monkeypatch.setattr(estimate.time, "perf_counter", lambda: next(clock))
    assert estimate.seconds_per_epoch(cfg, 1, 60, train_size=3200, batches=2) == pytest.approx(100.0)


def test_only_long_datasets_on_cpu_are_estimated_and_the_runs_random_streams_are_untouched(monkeypatch):
    import torch

    cfg = TrainConfig.for_dataset("pixel-mnist", hidden=8, batch_size=32)
    assert estimate.estimated_epoch_seconds(TrainConfig(), 28, 28, 1000, torch.device("cpu")) == 0.0
    assert estimate.estimated_epoch_seconds(cfg, 1, 20, 1000, torch.device("cuda")) == 0.0
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    assert estimate.estimated_epoch_seconds(cfg, 1, 20, 1000, torch.device("cpu")) > 0
    assert torch.equal(torch.rand(3), expected)  # building and stepping its own model drew nothing from the run's


def test_the_line():
    assert estimate.describe_epoch_time(150.0, 4) == "about 2 min per epoch here, 10 min for 4 epochs"
    assert estimate.describe_epoch_time(30.0, 1) == "about 30 s per epoch here, 30 s for 1 epoch"
    assert estimate.describe_epoch_time(0.0, 4) == ""


def test_training_pixel_mnist_announces_the_estimate_before_the_first_epoch():
    from lstm_desktop.core.training import events as ev
    from lstm_desktop.core.training.engine import Trainer

    seen = []
    cfg = TrainConfig.for_dataset("pixel-mnist", hidden=8, batch_size=32, epochs=1, val_size=16, device="cpu")
    Trainer(cfg, [seen.append]).fit(_pixel_data(64))
    start = next(e for e in seen if isinstance(e, ev.FitStarted))
    assert start.estimated_epoch_seconds > 0
    assert seen.index(start) < next(i for i, e in enumerate(seen) if isinstance(e, ev.BatchEnded))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_every_cell_can_be_estimated(cell):
    cfg = TrainConfig.for_dataset("pixel-mnist", hidden=8, batch_size=32, cell=cell)
    assert estimate.seconds_per_epoch(cfg, 1, 20, train_size=64, batches=1) > 0
