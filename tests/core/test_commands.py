"""The command lines the app copies for a run reproduce exactly that run when parsed back."""

from __future__ import annotations

import shlex

from lstm_desktop.cli import build_parser
from lstm_desktop.cli.train import config_from_args as _config_from_args
from lstm_desktop.core.training.commands import torchrun_command, train_arguments, train_command
from lstm_desktop.core.training.config import TrainConfig


def test_train_arguments_round_trip_through_the_cli_parser():
    cfg = TrainConfig(dataset="digits", data_dir="/tmp/my data", hidden=48, layers=3, bidirectional=True,
                      attention=True, dropout=0.3, epochs=7, batch_size=32, lr=0.00123456789,
                      weight_decay=1e-5, lr_schedule="onecycle", grad_clip=0.5, val_size=100, seed=4,
                      device="cpu", augment=True, threads=2)
    args = train_arguments(cfg, out="m.pt")
    parsed = build_parser().parse_args(args)
    assert _config_from_args(parsed) == cfg  # exact, floats included
    assert parsed.out == "m.pt"
    assert train_arguments(TrainConfig()) == ["train"]
    cmd = train_command(cfg)
    assert cmd.startswith("lstm-desktop train ") and "'/tmp/my data'" in cmd
    assert torchrun_command(cfg, nproc=4).startswith("torchrun --nproc-per-node=4 -m lstm_desktop train")


def test_every_flag_is_emitted_only_when_it_differs_from_the_default():
    args = train_arguments(TrainConfig(hidden=64, bidirectional=True))
    assert args == ["train", "--hidden", "64", "--bidirectional"]
    assert train_arguments(TrainConfig(lr=5e-5)) == ["train", "--lr", "5e-05"]


def test_shell_quoting_survives_a_round_trip():
    cfg = TrainConfig(data_dir="/data/it's here", device="cpu")
    words = shlex.split(train_command(cfg, out="out file.pt"))
    assert words[0] == "lstm-desktop"
    parsed = build_parser().parse_args(words[1:])
    assert _config_from_args(parsed) == cfg and parsed.out == "out file.pt"
    torchrun = shlex.split(torchrun_command(cfg, nproc=2))
    assert torchrun[:4] == ["torchrun", "--nproc-per-node=2", "-m", "lstm_desktop"]
    assert _config_from_args(build_parser().parse_args(torchrun[4:])) == cfg


def _extremes(s):
    """The lowest and highest valid values of a setting (what a form accepts at its limits)."""
    if s.choices:
        return [v for v, _ in s.choices]
    if s.kind is bool:
        return [False, True]
    if s.kind is int:
        return [int(s.lo) + (1 if s.lo_open else 0), int(s.hi) - (1 if s.hi_open else 0)]
    if s.kind is float:
        lo = s.lo if not s.lo_open else s.lo + 1e-12
        hi = s.hi if not s.hi_open else s.hi - 1e-9
        return [lo, hi, (lo + hi) / 3]
    return []


def test_every_extreme_value_round_trips_through_copy_command():
    """Each exposed setting at each of its extremes, on each dataset, parses back into the same config."""
    from lstm_desktop.core.training.config import DATASETS, EXPOSED

    checked = 0
    for dataset in DATASETS:
        for s in EXPOSED:
            for value in _extremes(s):
                if s.name == "dataset":
                    continue
                cfg = TrainConfig.for_dataset(dataset, **{s.name: value})
                words = shlex.split(train_command(cfg))
                parsed = build_parser().parse_args(words[1:])
                assert _config_from_args(parsed) == cfg, (dataset, s.name, value, words)
                checked += 1
    # and all at once at their upper limits
    top = {s.name: _extremes(s)[-1] for s in EXPOSED if s.name != "dataset" and _extremes(s)}
    cfg = TrainConfig.for_dataset("mnist", **top)
    assert _config_from_args(build_parser().parse_args(shlex.split(train_command(cfg))[1:])) == cfg
    assert checked > 100


def test_cli_defaults_are_the_declared_defaults():
    from lstm_desktop.core.training.config import DATASETS

    for dataset in DATASETS:
        parsed = build_parser().parse_args(["train", "--dataset", dataset])
        assert _config_from_args(parsed) == TrainConfig.for_dataset(dataset)
    assert _config_from_args(build_parser().parse_args(["train"])) == TrainConfig()


def test_help_shows_each_settings_default(capsys):
    import pytest

    from lstm_desktop.core.training.config import EXPOSED

    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for s in EXPOSED:
        assert s.flag in text
    assert "default: 0.001" in text and "default: 128" in text and "range (0, 10]" in text


def test_numbers_are_read_as_people_type_them():
    p = build_parser()
    for text, value in (("1e-4", 1e-4), ("0.0001", 1e-4), ("3e-3", 3e-3)):
        assert _config_from_args(p.parse_args(["train", "--lr", text])).lr == value
    assert _config_from_args(p.parse_args(["train", "--epochs", "1e1"])).epochs == 10
