"""TrainConfig: defaults, validation messages, JSON round trip, command lines."""

from __future__ import annotations

import json
import math

import pytest

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.errors import ConfigError, LstmDesktopError


def test_defaults_reproduce_the_notebook():
    cfg = TrainConfig()
    assert (cfg.dataset, cfg.hidden, cfg.layers, cfg.epochs, cfg.batch_size, cfg.lr) == (
        "mnist", 128, 1, 5, 64, 1e-3)
    assert not (cfg.bidirectional or cfg.attention or cfg.augment)
    assert cfg.variant_name == "LSTM (128)"


@pytest.mark.parametrize("changes, words", [
    ({"dataset": "cifar"}, "dataset"),
    ({"hidden": 0}, "hidden"),
    ({"hidden": 5000}, "hidden"),
    ({"layers": 0}, "layers"),
    ({"layers": 9}, "layers"),
    ({"dropout": -0.1}, "dropout"),
    ({"dropout": 1.0}, "dropout"),
    ({"dropout": math.nan}, "dropout"),
    ({"epochs": 0}, "epochs"),
    ({"batch_size": 0}, "batch size"),
    ({"lr": 0.0}, "learning rate"),
    ({"lr": -1e-3}, "learning rate"),
    ({"lr": 11.0}, "learning rate"),
    ({"lr": math.nan}, "learning rate"),
    ({"lr": math.inf}, "learning rate"),
    ({"weight_decay": -1.0}, "weight decay"),
    ({"seed": -1}, "seed"),
    ({"val_size": -5}, "validation size"),
    ({"lr_schedule": "step"}, "lr schedule"),
    ({"grad_clip": -0.5}, "gradient clipping"),
    ({"threads": 0}, "threads"),
    # wrong types (a JSON file or a form field) are ConfigErrors too, not TypeErrors
    ({"hidden": "128"}, "hidden"),
    ({"lr": "fast"}, "lr"),
    ({"epochs": 2.5}, "epochs"),
    ({"batch_size": True}, "batch size"),
])
def test_each_bad_value_raises_config_error_naming_the_setting(changes, words):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**changes)
    assert words in str(info.value)
    assert isinstance(info.value, LstmDesktopError)


def test_replace_validates_too():
    with pytest.raises(ConfigError, match="hidden"):
        TrainConfig().replace(hidden=-3)


def test_config_is_frozen():
    with pytest.raises(Exception):
        TrainConfig().hidden = 3  # type: ignore[misc]


def test_json_round_trip_and_unknown_keys_ignored():
    cfg = TrainConfig(dataset="digits", hidden=32, layers=2, bidirectional=True, attention=True,
                      dropout=0.25, epochs=3, lr=3e-4, lr_schedule="cosine", grad_clip=1.0, threads=2)
    data = json.loads(cfg.to_json())
    assert TrainConfig.from_dict(data) == cfg
    data["from_a_newer_version"] = 1
    assert TrainConfig.from_dict(data) == cfg
    assert cfg.variant_name == "BiLSTM x2 + attention (32)"
