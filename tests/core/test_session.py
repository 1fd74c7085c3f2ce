"""run_training end to end: every variant, per-epoch checkpoints, probes, the summary the CLI prints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstm_desktop.core.training import events as ev
from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.training.epoch_callbacks import MAX_BATCH_POINTS, thin
from lstm_desktop.core.training.session import run_training
from training_helpers import VARIANTS, cfg


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models: 1 thread is fastest on 2 shared cores


@pytest.fixture(scope="module")
def data():
    return synthetic_bundle(n=120, seed=0)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_trains_one_epoch(name, data, tmp_path):
    config = cfg(**VARIANTS[name])
    seen: list = []
    outcome = run_training(config, [seen.append], data=data, out=tmp_path / "m.pt")
    fit = outcome.fit
    assert fit.failure is None and fit.epochs_completed == 1
    assert len(fit.history["train_loss"]) == 1 and math.isfinite(fit.history["train_loss"][0])
    assert math.isfinite(fit.history["val_loss"][0]) and len(fit.history["batch_loss"]) == 4
    assert all(math.isfinite(v) for v in fit.history["batch_loss"])
    kinds = [type(e) for e in seen]
    assert kinds[0] is ev.RunStarted and kinds[1] is ev.FitStarted and kinds[-1] is ev.RunEnded
    assert kinds.index(ev.FitEnded) < kinds.index(ev.TestScored) < len(kinds) - 1
    assert seen[-1].status == "finished" and seen[-1].epochs_completed == 1
    model = outcome.checkpoint.model
    with torch.no_grad():
        assert model(data.test_x[:5]).shape == (5, 10)
    assert outcome.metrics is not None and outcome.metrics.samples == 50
    assert outcome.test_predictions.shape == (50,) and outcome.test_images.shape == (50, 28, 28)
    assert outcome.checkpoint.spec.attention == config.attention
    assert outcome.checkpoint.spec.bidirectional == config.bidirectional
    assert outcome.checkpoint.spec.layers == config.layers
    assert load_checkpoint(tmp_path / "m.pt").spec == outcome.checkpoint.spec


def test_summary_has_the_numbers_the_cli_prints(data, tmp_path):
    outcome = run_training(cfg(), data=data, out=tmp_path / "m.pt")
    s = outcome.summary()
    for key in ("accuracy", "precision", "recall", "f1", "epochs", "seconds", "train_samples_per_second"):
        assert key in s and s[key] is not None
    assert s["epochs"] == 1 and s["dataset"] == "synthetic" and s["variant"] == "LSTM (8)"
    assert s["checkpoint"] == str(tmp_path / "m.pt") and s["stopped"] is False and s["failed"] is None
    assert s["parameters"] == sum(p.numel() for p in outcome.checkpoint.model.parameters())
    assert s["accuracy"] == outcome.metrics.accuracy


def test_checkpoint_is_written_after_every_epoch_in_the_run_folder(data, tmp_path):
    run_dir = tmp_path / "run"
    out = tmp_path / "every.pt"
    per_epoch, saved = [], []

    def callback(e):
        if isinstance(e, ev.EpochEnded):
            per_epoch.append(e.epoch)
        if isinstance(e, ev.CheckpointSaved):
            saved.append(e)
        if isinstance(e, ev.BatchEnded) and e.epoch == 1 and e.batch == 0:
            # the callbacks run before run_training's own after-epoch writer, so look at batch 0 of epoch 2
            ck = load_checkpoint(run_dir / "model.pt")
            assert ck.metrics is None and len(ck.history["train_loss"]) == 1
            assert not out.exists()  # --out is written once, at the end

    outcome = run_training(cfg(epochs=2), [callback], data=data, out=out, run_dir=run_dir)
    assert per_epoch == [0, 1]
    assert [(s.epoch, s.final) for s in saved] == [(1, False), (2, False), (2, True)]
    assert saved[0].best_path == str(run_dir / "best.pt")
    for path in (out, run_dir / "model.pt"):
        final = load_checkpoint(path)
        assert final.metrics is not None and final.info["epochs"] == 2
        assert len(final.history["train_loss"]) == 2
    assert outcome.saved_to == out and outcome.checkpoint.path == out


def test_stop_keeps_the_finished_epochs_in_the_checkpoint(data, tmp_path):
    control = TrainingControl()
    out = tmp_path / "stopped.pt"

    def callback(e):
        if isinstance(e, ev.BatchEnded) and e.epoch == 1 and e.batch == 1:
            control.stop()

    ended = []
    outcome = run_training(cfg(epochs=5), [callback, ended.append], control=control, data=data, out=out)
    assert outcome.fit.stopped and outcome.fit.epochs_completed == 1
    assert ended[-1].status == "stopped"
    ck = load_checkpoint(out)
    assert ck.info["epochs"] == 1 and ck.metrics is not None
    for k, v in outcome.fit.model.state_dict().items():
        assert torch.equal(ck.model.state_dict()[k], v)


def test_nothing_is_saved_when_no_epoch_finished(data, tmp_path):
    control = TrainingControl()
    control.stop()
    outcome = run_training(cfg(epochs=2), control=control, data=data, out=tmp_path / "none.pt")
    assert outcome.fit.epochs_completed == 0 and outcome.metrics is None and outcome.saved_to is None
    assert not (tmp_path / "none.pt").exists()
    assert outcome.summary()["accuracy"] is None


def test_a_data_error_still_ends_the_run(tmp_path):
    from lstm_desktop.core.errors import DataError

    seen: list = []
    with pytest.raises(DataError):
        run_training(cfg(dataset="mnist", data_dir=str(tmp_path / "nothing")), [seen.append])
    assert isinstance(seen[0], ev.RunStarted) and isinstance(seen[-1], ev.RunEnded)
    assert seen[-1].status == "failed" and "MNIST" in seen[-1].message


def test_the_probe_is_fitted_to_the_model_with_the_one_function(tmp_path):
    from lstm_desktop.core.drawing.inference import fit_input

    seen: list = []
    drawing = np.full((28, 28), -1.0, dtype=np.float32)
    drawing[8:20, 12:16] = 1.0
    run_training(cfg(dataset="digits", val_size=50), [seen.append], probe=lambda: drawing)
    probes = [e for e in seen if isinstance(e, ev.ProbeScored)]
    assert len(probes) == 1
    small = fit_input(drawing, (8, 8))
    assert small.shape == (8, 8) and small.max() > 0.0 and fit_input(drawing, (100, 8)) is None


def test_probe_is_rescored_after_each_epoch(data):
    seen: list = []
    image = data.test_x[0].numpy()
    outcome = run_training(cfg(epochs=2), [seen.append], data=data, probe=lambda: image)
    probes = [e for e in seen if isinstance(e, ev.ProbeScored)]
    assert [p.epoch for p in probes] == [0, 1]
    assert all(len(p.probabilities) == 10 and abs(sum(p.probabilities) - 1) < 1e-4 for p in probes)
    assert outcome.fit.epochs_completed == 2
    none_seen: list = []
    run_training(cfg(), [none_seen.append], data=data, probe=lambda: None)
    assert not any(isinstance(e, ev.ProbeScored) for e in none_seen)


def test_run_training_loads_the_named_dataset():
    outcome = run_training(cfg(dataset="digits", val_size=50))
    assert outcome.data_name == "digits" and outcome.checkpoint.spec.seq_len == 8
    assert outcome.fit.history["epoch"] == [1.0]


def test_batch_curve_is_thinned_for_the_checkpoint():
    xs = [float(i) for i in range(10_001)]
    tx, ty = thin(xs, xs, MAX_BATCH_POINTS)
    assert len(tx) <= MAX_BATCH_POINTS and tx[0] == 0.0 and tx == ty
    assert thin(xs[:10], xs[:10], MAX_BATCH_POINTS) == (xs[:10], xs[:10])
    assert np.all(np.diff(tx) > 0)
