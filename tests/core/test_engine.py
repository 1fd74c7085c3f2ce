"""Trainer.fit: events, reproducibility, stop / pause from another thread, NaN recovery, clipping and
schedules, predict / evaluate. Synthetic data, hidden sizes 8-32, one CPU thread."""

from __future__ import annotations

import math
import threading
import time

import pytest
import torch

from lstm_desktop.core.training import events as ev
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.data.image_sets import DataBundle, synthetic_bundle
from lstm_desktop.core.training.engine import Trainer, evaluate, predict, spec_for
from lstm_desktop.core.errors import DeviceError
from lstm_desktop.core.models.networks import LSTMClassifier, count_parameters
from training_helpers import cfg


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models: 1 thread is fastest on 2 shared cores


def tiny() -> DataBundle:
    return synthetic_bundle(n=120, seed=0)  # 100 train, 20 val, 50 test


def state_copy(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_events_come_in_order_with_consistent_numbers():
    data = tiny()
    seen: list = []
    result = Trainer(cfg(epochs=2), [seen.append]).fit(data)
    kinds = [type(e).__name__ for e in seen]
    batches = math.ceil(100 / 32)
    # the gradient-flow probe measures after each epoch's last batch (long-lag lab)
    assert kinds == (["FitStarted"] + (["BatchEnded"] * batches + ["GradientFlowMeasured", "EpochEnded"]) * 2
                     + ["FitEnded"])
    start = seen[0]
    assert (start.epochs, start.batches_per_epoch, start.train_size, start.val_size, start.device) == (
        2, batches, 100, 20, "cpu")
    assert start.parameters == count_parameters(result.model)
    batch_events = [e for e in seen if isinstance(e, ev.BatchEnded)]
    assert [(e.epoch, e.batch) for e in batch_events] == [(ep, b) for ep in range(2) for b in range(batches)]
    assert [e.progress for e in batch_events][-1] == pytest.approx(2.0)
    assert all(math.isfinite(e.loss) and 0 <= e.accuracy <= 1 and e.samples_per_second > 0 for e in batch_events)
    epochs = [e for e in seen if isinstance(e, ev.EpochEnded)]
    assert [e.epoch for e in epochs] == [0, 1] and all(e.epochs == 2 for e in epochs)
    assert all(math.isfinite(e.val_loss) and 0 <= e.val_accuracy <= 1 and e.seconds > 0 for e in epochs)
    end = seen[-1]
    assert end.epochs_completed == 2 and not end.stopped and end.train_samples_per_second > 0
    assert result.epochs_completed == 2 and result.failure is None and not result.stopped
    h = result.history
    assert h["epoch"] == [1.0, 2.0] and len(h["train_loss"]) == 2 and len(h["batch_loss"]) == 2 * batches
    assert h["train_loss"] == [e.train_loss for e in epochs]
    assert not result.model.training  # handed back in eval mode


def test_training_learns_the_synthetic_task():
    data = synthetic_bundle(n=600, seed=0)
    result = Trainer(cfg(hidden=32, epochs=4, batch_size=32, lr=1e-2)).fit(data)
    h = result.history
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert evaluate(result.model, data.test_x, data.test_y).accuracy > 0.3  # chance is 0.1


def test_same_seed_gives_identical_runs_and_another_seed_does_not():
    data = tiny()
    config = cfg(epochs=2, layers=2, dropout=0.2, augment=True, seed=7)
    a = Trainer(config).fit(data)
    b = Trainer(config).fit(data)
    assert a.history["batch_loss"] == b.history["batch_loss"]
    assert a.history["val_loss"] == b.history["val_loss"]
    assert states_equal(a.model.state_dict(), b.model.state_dict())
    c = Trainer(config.replace(seed=8)).fit(data)
    assert c.history["batch_loss"] != a.history["batch_loss"]


def _long_epoch_data() -> DataBundle:
    """8,000 images at batch 8: an epoch is 1,000 steps, several seconds on one thread."""
    d = tiny()
    return DataBundle("synthetic", d.train_x.repeat(80, 1, 1), d.train_y.repeat(80), d.val_x, d.val_y,
                      d.test_x, d.test_y)


def test_stop_from_another_thread_is_honoured_at_the_next_batch():
    data = _long_epoch_data()
    control = TrainingControl()
    reached, stopped = threading.Event(), threading.Event()
    batches: list[ev.BatchEnded] = []
    ends: list[ev.FitEnded] = []

    def callback(e):
        if isinstance(e, ev.BatchEnded):
            batches.append(e)
            if e.batch == 10:  # hold the loop until the other thread has asked it to stop
                reached.set()
                assert stopped.wait(30), "the stopper never ran"
        elif isinstance(e, ev.FitEnded):
            ends.append(e)

    def stopper():
        if reached.wait(30):
            control.stop()
            stopped.set()

    config = cfg(hidden=32, batch_size=8, epochs=3)
    torch.manual_seed(config.seed)
    model = LSTMClassifier(spec_for(config, data))
    initial = state_copy(model)
    thread = threading.Thread(target=stopper)
    thread.start()
    result = Trainer(config, [callback], control=control).fit(data, model=model)
    thread.join(30)
    assert stopped.is_set(), "the stopper never ran"
    assert batches[-1].batch == 10 and batches[0].batches == 1000  # not one batch after the stop
    assert result.stopped and result.epochs_completed == 0 and result.failure is None
    assert ends and ends[0].stopped and ends[0].epochs_completed == 0
    # a partial epoch is not kept: the weights are those of the last finished epoch (here: the start)
    assert states_equal(result.model.state_dict(), initial)


def test_stop_after_a_finished_epoch_keeps_that_epoch():
    data = tiny()
    control = TrainingControl()
    snapshots = []
    model_holder = {}

    def callback(e):
        if isinstance(e, ev.EpochEnded) and e.epoch == 0:
            snapshots.append(state_copy(model_holder["m"]))
        if isinstance(e, ev.BatchEnded) and e.epoch == 1 and e.batch == 1:
            control.stop()

    config = cfg(epochs=3)
    model_holder["m"] = LSTMClassifier(spec_for(config, data))
    result = Trainer(config, [callback], control=control).fit(data, model=model_holder["m"])
    assert result.stopped and result.epochs_completed == 1
    assert len(result.history["train_loss"]) == 1
    assert states_equal(result.model.state_dict(), snapshots[0])


class ParkedControl(TrainingControl):
    """A control that says when the loop is blocked in wait_while_paused and reports `pause_s` as
    the time it stayed there (the test moves the clock on by as much while the loop is parked)."""

    def __init__(self, pause_s: float = 0.0) -> None:
        super().__init__()
        self.parked = threading.Event()
        self.pause_s = pause_s

    def wait_while_paused(self) -> float:
        self.parked.set()
        super().wait_while_paused()
        return self.pause_s


def test_pause_excludes_paused_time_and_training_resumes(monkeypatch):
    pause_s = 3600.0  # an hour away from the computer, on a clock the test moves on
    offset = [0.0]
    real_clock = time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + offset[0])
    data = tiny()
    control = ParkedControl(pause_s)
    batches: list[ev.BatchEnded] = []

    def callback(e):
        if isinstance(e, ev.BatchEnded):
            batches.append(e)
            if (e.epoch, e.batch) == (0, 1):
                control.pause()

    results = []
    trainer = Trainer(cfg(epochs=2), [callback], control=control)
    worker = threading.Thread(target=lambda: results.append(trainer.fit(data)))
    worker.start()
    assert control.parked.wait(30)
    assert control.paused and len(batches) == 2  # parked right after the batch that paused it
    offset[0] += pause_s  # the hour passes while the loop is parked; it cannot train meanwhile
    control.resume()
    worker.join(30)
    assert not worker.is_alive()
    result = results[0]
    per_epoch = math.ceil(100 / 32)
    assert len(batches) == 2 * per_epoch and result.epochs_completed == 2 and not result.stopped
    assert 0.0 <= result.seconds < pause_s  # the paused hour is not training time
    assert 0.0 <= result.history["seconds"][0] < pause_s


def test_stop_while_paused_wakes_the_loop():
    data = tiny()
    control = ParkedControl()

    def callback(e):
        if isinstance(e, ev.BatchEnded) and (e.epoch, e.batch) == (0, 0):
            control.pause()

    results = []
    worker = threading.Thread(target=lambda: results.append(
        Trainer(cfg(epochs=2), [callback], control=control).fit(data)))
    worker.start()
    assert control.parked.wait(30)
    control.stop()
    worker.join(30)
    assert not worker.is_alive()
    assert results[0].stopped and results[0].epochs_completed == 0
    control.pause()  # pausing after a stop does nothing
    assert not control.paused


def test_nan_loss_reports_fit_failed_and_keeps_the_last_finished_epoch():
    data = tiny()  # this test poisons its own copy of the data
    seen: list = []
    snapshots = []
    config = cfg(epochs=3)
    model = LSTMClassifier(spec_for(config, data))

    def callback(e):
        seen.append(e)
        if isinstance(e, ev.EpochEnded) and e.epoch == 0:
            snapshots.append(state_copy(model))
            data.train_x.fill_(float("nan"))  # every batch of the next epoch gives a NaN loss

    result = Trainer(config, [callback]).fit(data, model=model)
    failed = [e for e in seen if isinstance(e, ev.FitFailed)]
    assert len(failed) == 1 and failed[0].kind == "nan"
    assert "nan" in failed[0].message and "epoch 2" in failed[0].message
    assert "learning rate" in failed[0].hint
    assert result.failure == failed[0] and not result.stopped
    assert result.epochs_completed == 1 and len(result.history["train_loss"]) == 1
    assert isinstance(seen[-1], ev.FitEnded) and seen[-2] is failed[0] and not seen[-1].stopped
    assert states_equal(result.model.state_dict(), snapshots[0])
    assert all(torch.isfinite(p).all() for p in result.model.parameters())


def test_nan_in_the_first_epoch_restores_the_initial_weights():
    data = tiny()
    data.train_x[5, 3, 3] = float("nan")
    config = cfg(epochs=2, batch_size=100)
    model = LSTMClassifier(spec_for(config, data))
    initial = state_copy(model)
    result = Trainer(config).fit(data, model=model)
    assert result.failure is not None and result.failure.kind == "nan" and result.epochs_completed == 0
    assert states_equal(result.model.state_dict(), initial)


def test_gradient_clipping_runs_and_bounds_the_norm(monkeypatch):
    norms_after: list[float] = []
    original = torch.nn.utils.clip_grad_norm_

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        out = original(parameters, max_norm, *args, **kwargs)
        norms_after.append(float(torch.linalg.vector_norm(
            torch.stack([p.grad.norm() for p in parameters if p.grad is not None]))))
        assert max_norm == 0.05
        return out

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    result = Trainer(cfg(grad_clip=0.05)).fit(tiny())
    assert len(norms_after) == math.ceil(100 / 32)
    assert all(n <= 0.05 * 1.001 for n in norms_after)
    assert result.failure is None
    norms_after.clear()
    Trainer(cfg(grad_clip=0.0)).fit(tiny())
    assert norms_after == []  # 0 turns it off


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_lr_schedules_change_the_learning_rate(schedule):
    lrs: list[float] = []
    config = cfg(epochs=2, lr_schedule=schedule, lr=1e-2, batch_size=10)
    result = Trainer(config, [lambda e: lrs.append(e.lr) if isinstance(e, ev.BatchEnded) else None]).fit(tiny())
    assert result.failure is None and len(lrs) == 20
    assert len(set(lrs)) > 10
    assert max(lrs) <= 1e-2 * 1.0001
    assert lrs[-1] < 1e-2 * 0.05  # both anneal to a small fraction by the last step
    if schedule == "onecycle":
        assert lrs[0] < max(lrs)  # warms up first
    else:
        assert lrs == sorted(lrs, reverse=True)
    assert result.history["lr"][-1] == pytest.approx(lrs[-1])


def test_constant_lr_without_schedule():
    lrs: list[float] = []
    Trainer(cfg(), [lambda e: lrs.append(e.lr) if isinstance(e, ev.BatchEnded) else None]).fit(tiny())
    assert set(lrs) == {1e-2}


def test_no_validation_split_gives_nan_validation():
    d = tiny()
    data = DataBundle("synthetic", d.train_x, d.train_y, d.val_x[:0], d.val_y[:0], d.test_x, d.test_y)
    result = Trainer(cfg()).fit(data)
    assert math.isnan(result.history["val_loss"][0]) and result.epochs_completed == 1


def test_unknown_device_is_a_device_error():
    with pytest.raises(DeviceError):
        Trainer(cfg(device="cuda:7")).fit(tiny())


def test_predict_and_evaluate():
    data = tiny()
    model = Trainer(cfg()).fit(data).model
    probs = predict(model, data.test_x, batch_size=7)  # several chunks
    assert probs.shape == (50, 10)
    assert torch.allclose(probs.sum(1), torch.ones(50), atol=1e-5)
    m = evaluate(model, data.test_x, data.test_y)
    assert m.samples == 50
    assert m.accuracy == pytest.approx(float((probs.argmax(1) == data.test_y).float().mean()))
    control = TrainingControl()
    control.stop()
    assert len(predict(model, data.test_x, control=control)) == 0
