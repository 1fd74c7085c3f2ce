"""Training configuration: one validated, immutable value shared by the CLI, the app and checkpoints."""

from __future__ import annotations

import dataclasses
import json
import numbers
from dataclasses import dataclass, field
from typing import Any

from lstm_desktop.core.errors import ConfigError

DATASETS = ("mnist", "digits", "synthetic")
LR_SCHEDULES = ("none", "onecycle", "cosine")
_NUMBERS = {"hidden": numbers.Integral, "layers": numbers.Integral, "dropout": numbers.Real,
            "epochs": numbers.Integral, "batch_size": numbers.Integral, "lr": numbers.Real,
            "weight_decay": numbers.Real, "seed": numbers.Integral, "val_size": numbers.Integral,
            "grad_clip": numbers.Real, "threads": numbers.Integral}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. Defaults reproduce the seed notebook."""

    dataset: str = "mnist"
    data_dir: str | None = None
    hidden: int = 128
    layers: int = 1
    bidirectional: bool = False
    attention: bool = False
    dropout: float = 0.0
    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    val_size: int = 5000
    augment: bool = False
    lr_schedule: str = "none"
    grad_clip: float = 0.0
    threads: int | None = None
    cpu_split: bool = True  # CPU: run equal parts of each batch on separate cores (same maths)
    cpu_kernel: bool = True  # CPU split, plain model: the C kernel (same maths, rounding ~1e-6 apart)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the bad setting and its allowed range."""
        for name, kind in _NUMBERS.items():  # a string from JSON or a form must not end as a TypeError
            value = getattr(self, name)
            if value is None and name == "threads":
                continue
            if isinstance(value, bool) or not isinstance(value, kind):
                what = "a whole number" if kind is numbers.Integral else "a number"
                raise ConfigError(f"{name.replace('_', ' ')} must be {what}, not {value!r}")
        checks: list[tuple[bool, str]] = [
            (self.dataset in DATASETS, f"dataset must be one of {', '.join(DATASETS)}, not {self.dataset!r}"),
            (1 <= self.hidden <= 4096, f"hidden size must be between 1 and 4096, not {self.hidden}"),
            (1 <= self.layers <= 8, f"layers must be between 1 and 8, not {self.layers}"),
            (0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), not {self.dropout}"),
            (1 <= self.epochs <= 10_000, f"epochs must be between 1 and 10000, not {self.epochs}"),
            (1 <= self.batch_size <= 65_536, f"batch size must be between 1 and 65536, not {self.batch_size}"),
            (0.0 < self.lr <= 10.0, f"learning rate must be in (0, 10], not {self.lr}"),
            (self.weight_decay >= 0.0, f"weight decay must be >= 0, not {self.weight_decay}"),
            (self.seed >= 0, f"seed must be >= 0, not {self.seed}"),
            (self.val_size >= 0, f"validation size must be >= 0, not {self.val_size}"),
            (self.lr_schedule in LR_SCHEDULES, f"lr schedule must be one of {', '.join(LR_SCHEDULES)}, not {self.lr_schedule!r}"),
            (self.grad_clip >= 0.0, f"gradient clipping must be >= 0 (0 turns it off), not {self.grad_clip}"),
            (self.threads is None or self.threads >= 1, f"threads must be >= 1, not {self.threads}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def variant_name(self) -> str:
        """A short human name such as 'BiLSTM x2 + attention (128)'."""
        name = "BiLSTM" if self.bidirectional else "LSTM"
        if self.layers > 1:
            name += f" x{self.layers}"
        if self.attention:
            name += " + attention"
        return f"{name} ({self.hidden})"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build from a dict, ignoring unknown keys so newer checkpoints still open."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)
