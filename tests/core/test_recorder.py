"""The recorder writes a real training run to the store: the same curves as the run's history,
metrics, checkpoints, status; a stopped run, a failed one, an in-memory Runs model kept in step."""

from __future__ import annotations

import math

import pytest

from lstm_desktop.core.training import events as ev
from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.errors import DataError
from lstm_desktop.core.runs.recorder import open_recording
from lstm_desktop.core.runs.run_lock import lock_is_free
from lstm_desktop.core.runs.evented_runs import Runs, RunStatus
from lstm_desktop.core.training.session import run_training
from lstm_desktop.core.runs.store import open_store

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data():
    return synthetic_bundle(n=120, seed=0)


def cfg(**changes) -> TrainConfig:
    base = dict(dataset="synthetic", hidden=8, epochs=2, batch_size=32, device="cpu", lr=1e-2)
    return TrainConfig(**(base | changes))


def test_a_finished_run_is_stored_exactly_as_it_trained(data, tmp_path):
    config = cfg()
    image = data.test_x[0].numpy()
    with open_recording(config, source="cli", home=tmp_path) as rec:
        assert not lock_is_free(rec.run_dir)  # held for the run's life
        outcome = run_training(config, rec.callbacks, data=data, run_dir=rec.run_dir, probe=lambda: image)
    assert lock_is_free(rec.run_dir)
    store = open_store(tmp_path)
    run = store.get_run(rec.run_id)
    assert run.status is RunStatus.FINISHED and run.source == "cli" and run.config == config
    assert run.epochs_done == run.epochs_total == 2 and run.device == "cpu" and run.parameters > 0
    assert run.started and run.ended and run.seconds > 0 and run.torch_version and run.host and run.machine
    assert run.metrics == outcome.metrics and run.accuracy == outcome.metrics.accuracy
    assert store.absolute(run.checkpoint_path) == rec.run_dir / "model.pt"
    assert load_checkpoint(store.absolute(run.checkpoint_path)).metrics == outcome.metrics
    assert store.absolute(run.best_path).is_file()
    curves = store.get_curves(run.id)
    history = outcome.fit.history
    for key in ("batch_x", "batch_loss", "epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
        assert curves[key] == pytest.approx(history[key], nan_ok=True), key
    assert [x for x, _ in curves["probe"]] == [1.0, 2.0] and all(len(p) == 10 for _, p in curves["probe"])
    info = store.info(run.id)
    assert info["train_size"] == len(data.train_x) and info["batches_per_epoch"] > 0
    assert info["step"].startswith(("C kernel", "torch")), info["step"]  # the step that ran, as the run says


def test_a_stopped_run_keeps_its_partial_epoch_curve_and_its_last_finished_model(data, tmp_path):
    control = TrainingControl()

    def stop(e):
        if isinstance(e, ev.BatchEnded) and e.epoch == 1 and e.batch == 1:
            control.stop()

    with open_recording(cfg(epochs=4), home=tmp_path) as rec:
        outcome = run_training(cfg(epochs=4), [stop, *rec.callbacks], control=control, data=data,
                               run_dir=rec.run_dir)
    run = open_store(tmp_path).get_run(rec.run_id)
    assert run.status is RunStatus.STOPPED and run.epochs_done == 1 and run.epochs_total == 4
    curves = open_store(tmp_path).get_curves(run.id)
    assert curves["batch_x"] == pytest.approx(outcome.fit.history["batch_x"]) and curves["epoch"] == [1.0]
    assert load_checkpoint(rec.run_dir / "model.pt").info["epochs"] == 1


def test_a_failed_run_says_why_and_an_in_memory_model_follows(tmp_path):
    runs, changes = Runs(), []
    runs.events.changed.connect(lambda r, names: changes.append(set(names)))
    config = cfg(dataset="mnist", data_dir=str(tmp_path / "nothing"))
    with open_recording(config, source="window", home=tmp_path / "home", runs=runs) as rec:
        assert rec.run_id in runs
        with pytest.raises(DataError):
            run_training(config, rec.callbacks, download=False, run_dir=rec.run_dir)
    stored = open_store(tmp_path / "home").get_run(rec.run_id)
    live = runs[rec.run_id]
    assert stored.status is live.status is RunStatus.FAILED and "MNIST" in stored.message == live.message
    assert stored.checkpoint_path == "" and any("status" in c for c in changes)


def test_closing_a_recording_that_never_ended_marks_it_interrupted(tmp_path):
    rec = open_recording(cfg(), home=tmp_path)
    rec.close()
    run = open_store(tmp_path).get_run(rec.run_id)
    assert run.status is RunStatus.INTERRUPTED and run.ended and not math.isnan(run.epochs_done)
