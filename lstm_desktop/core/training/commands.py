"""The exact command lines that reproduce a run headless, for "Copy command".

Derived from the settings' declarations (core/training/config.py): every exposed setting whose value
differs from its default for the run's dataset becomes a flag, so `lstm-desktop train` parses the
command back into the same config (a test round-trips extreme values).
"""

from __future__ import annotations

import shlex

from lstm_desktop.core.training.config import EXPOSED, TrainConfig


def train_arguments(config: TrainConfig, out: str | None = None) -> list[str]:
    """`lstm-desktop train` arguments for every setting that differs from the dataset's defaults."""
    args = ["train"]
    if config.dataset != "mnist":
        args += ["--dataset", config.dataset]
    for s in EXPOSED:
        if s.name == "dataset":
            continue
        value = getattr(config, s.name)
        if value == s.default_for(config.dataset):
            continue
        if s.kind is bool:
            args.append(s.flag if value else f"--no-{s.flag[2:]}")
        elif value is None:
            args += [s.flag, s.none_text or "none"]
        else:
            args += [s.flag, s.format(value)]
    if out:
        args += ["--out", out]
    return args


def train_command(config: TrainConfig, out: str | None = None) -> str:
    return shlex.join(["lstm-desktop", *train_arguments(config, out)])


def torchrun_command(config: TrainConfig, nproc: int = 2, out: str | None = None) -> str:
    """Data-parallel form: torchrun starts N processes of the same training."""
    args = train_arguments(config, out)
    return shlex.join(["torchrun", f"--nproc-per-node={nproc}", "-m", "lstm_desktop", *args])
