"""The exact command lines that reproduce a run headless, for "Copy as command"."""

from __future__ import annotations

import shlex

from lstm_desktop.core.config import TrainConfig

_DEFAULTS = TrainConfig()


def train_arguments(config: TrainConfig, out: str | None = None) -> list[str]:
    """`lstm-desktop train` arguments for every setting that differs from the defaults."""
    args = ["train"]
    flags = [("dataset", "--dataset"), ("data_dir", "--data-dir"), ("hidden", "--hidden"),
             ("layers", "--layers"), ("dropout", "--dropout"), ("epochs", "--epochs"),
             ("batch_size", "--batch-size"), ("lr", "--lr"), ("weight_decay", "--weight-decay"),
             ("lr_schedule", "--lr-schedule"), ("grad_clip", "--grad-clip"), ("val_size", "--val-size"),
             ("seed", "--seed"), ("device", "--device"), ("threads", "--threads")]
    for field, flag in flags:
        value = getattr(config, field)
        if value != getattr(_DEFAULTS, field) and value is not None:
            args += [flag, repr(value) if isinstance(value, float) else str(value)]  # repr: exact
    for field, flag in (("bidirectional", "--bidirectional"), ("attention", "--attention"),
                        ("augment", "--augment")):
        if getattr(config, field):
            args.append(flag)
    if out:
        args += ["--out", out]
    return args


def train_command(config: TrainConfig, out: str | None = None) -> str:
    return shlex.join(["lstm-desktop", *train_arguments(config, out)])


def torchrun_command(config: TrainConfig, nproc: int = 2, out: str | None = None) -> str:
    """Data-parallel form: torchrun starts N processes of the same training."""
    args = train_arguments(config, out)
    return shlex.join(["torchrun", f"--nproc-per-node={nproc}", "-m", "lstm_desktop", *args])
