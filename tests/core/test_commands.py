"""The command lines the app copies for a run reproduce exactly that run when parsed back."""

from __future__ import annotations

import shlex

from lstm_desktop.cli import _config_from_args, build_parser
from lstm_desktop.core.commands import torchrun_command, train_arguments, train_command
from lstm_desktop.core.config import TrainConfig


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
