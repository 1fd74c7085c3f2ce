"""The after-epoch callbacks alone: what each writes and announces, driven by hand-made epoch events."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.models.networks import LSTMClassifier
from lstm_desktop.core.training.engine import spec_for
from lstm_desktop.core.training.epoch_callbacks import (RUN_BEST, RUN_MODEL, EpochCheckpoints, ProbeScorer,
                                                        thin)
from lstm_desktop.core.training.events import CheckpointSaved, EpochEnded, ProbeScored

from training_helpers import cfg


def epoch(n: int, val: float, train: float = 0.5) -> EpochEnded:
    return EpochEnded(n, 5, 1.0, train, 1.0, val, 0.1, 100.0, 1e-3)


@pytest.fixture
def parts():
    config = cfg()
    data = synthetic_bundle(120)
    torch.manual_seed(0)
    return config, data, LSTMClassifier(spec_for(config, data))


def test_every_epoch_rewrites_the_model_and_best_only_when_validation_improves(parts, tmp_path):
    config, data, model = parts
    seen: list[CheckpointSaved] = []
    history = {"epoch": [0.0], "batch_x": [0.5, 1.0], "batch_loss": [2.0, 1.5]}
    saver = EpochCheckpoints(model, config, data, lambda: history, tmp_path, seen.append)
    bests = []
    for n, val in enumerate([0.50, 0.70, 0.60, 0.70, 0.90]):
        with torch.no_grad():  # a different model each epoch, so the files tell the epochs apart
            next(model.parameters()).fill_(float(n))
        saver.on_epoch_end(epoch(n, val))
        bests.append(float(next(load_checkpoint(tmp_path / RUN_BEST).model.parameters()).detach().flatten()[0]))
        assert float(next(load_checkpoint(tmp_path / RUN_MODEL).model.parameters()).detach().flatten()[0]) == n
    # best.pt follows strict improvements only: epochs 0, 1, then stays at 1 (0.60 and a tie), then 4
    assert bests == [0.0, 1.0, 1.0, 1.0, 4.0]
    assert [e.epoch for e in seen] == [1, 2, 3, 4, 5]
    assert [bool(e.best_path) for e in seen] == [True, True, False, False, True]
    assert load_checkpoint(tmp_path / RUN_MODEL).history["batch_loss"] == [2.0, 1.5]


def test_without_a_validation_split_training_accuracy_picks_the_best(parts, tmp_path):
    config, data, model = parts
    seen: list[CheckpointSaved] = []
    saver = EpochCheckpoints(model, config, data, dict, tmp_path, seen.append)
    for n, train in enumerate([0.3, 0.2, 0.4]):
        saver.on_epoch_end(epoch(n, math.nan, train))
    assert [bool(e.best_path) for e in seen] == [True, False, True]


def test_the_probe_is_scored_with_the_model_and_the_model_keeps_training(parts):
    config, data, model = parts
    image = data.test_x[0].numpy().astype(np.float32)
    scored: list[ProbeScored] = []
    model.train()
    ProbeScorer(model, lambda: image, (data.seq_len, data.input_size), scored.append).on_epoch_end(epoch(2, 0.5))
    assert model.training
    (event,) = scored
    assert event.epoch == 2 and len(event.probabilities) == data.num_classes
    model.eval()
    with torch.no_grad():  # the same probabilities computed here from the model's logits
        expected = torch.softmax(model(torch.from_numpy(image)[None]), 1)[0].tolist()
    assert event.probabilities == pytest.approx(expected, abs=1e-5)


def test_no_probe_image_means_no_event(parts):
    config, data, model = parts
    scored: list[ProbeScored] = []
    ProbeScorer(model, lambda: None, (data.seq_len, data.input_size), scored.append).on_epoch_end(epoch(0, 0.5))
    assert scored == []


def test_thinning_keeps_a_bounded_evenly_spaced_curve():
    xs = [float(i) for i in range(10_001)]
    tx, ty = thin(xs, [2 * x for x in xs], 4000)
    assert len(tx) <= 4000 and tx[0] == 0.0 and ty == [2 * x for x in tx]
    assert len({b - a for a, b in zip(tx, tx[1:])}) == 1
    assert thin(xs[:10], xs[:10], 4000) == (xs[:10], xs[:10])
