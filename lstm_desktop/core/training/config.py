"""Training configuration: one validated, immutable value shared by the CLI, the app and checkpoints.

Every field is declared once, with `setting(...)` (core/training/settings.py): type, default, limits, unit,
help, the form's section and field name. The CLI flags, the form, validation and "Copy command"
all come from these declarations. Defaults reproduce the seed notebook.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from lstm_desktop.core.errors import ConfigError
from lstm_desktop.core.training.settings import Setting, setting, settings_of

DATASET_CHOICES = (
    ("mnist", "MNIST (70,000 digits, 28×28)"),
    ("digits", "scikit-learn digits (offline, 8×8)"),
    ("temporal-order", "Temporal order (long-lag task, generated)"),
    ("pixel-mnist", "Pixel MNIST (784 steps, one pixel each)"),
    ("synthetic", "Synthetic bars (tiny test pattern)"),
)
DATASETS = tuple(v for v, _ in DATASET_CHOICES)
CELLS = ("lstm", "gru", "rnn")
CELL_CHOICES = (("lstm", "LSTM"), ("gru", "GRU"), ("rnn", "RNN (tanh)"))
LR_SCHEDULES = ("none", "onecycle", "cosine")
SCHEDULE_CHOICES = (("none", "Constant"), ("onecycle", "One-cycle"), ("cosine", "Cosine decay"))
LONG_LAG = ("temporal-order", "pixel-mnist")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run."""

    dataset: str = setting("mnist", "Dataset", "what to train on: MNIST (download or local files), scikit-learn's "
                           "8x8 digits (offline), the long-lag temporal order task, pixel-by-pixel MNIST, or a "
                           "tiny synthetic pattern", "Data", choices=DATASET_CHOICES, widget="datasetCombo")
    data_dir: str | None = setting(None, "Data folder", "folder that holds MNIST/raw/ (default: $LSTM_DESKTOP_DATA, "
                                   "else ~/.pytorch/MNIST_data)", "Data", optional=True, widget="dataDirEdit",
                                   applies_to=("mnist", "pixel-mnist"))
    val_size: int = setting(5000, "Validation size", "training images held out to measure validation loss and "
                            "accuracy", "Data", lo=0, hi=30000, step=500, widget="valSizeSpin", unit="images",
                            per_dataset={"digits": 200, "temporal-order": 1000},
                            per_dataset_hi={"digits": (200, "scikit-learn's digits are 1,797 images in all"),
                                            "temporal-order": (1000, "a tenth of its 10,000 training sequences")})
    augment: bool = setting(False, "Augment", "random distortions of each batch (rotation, scale, shift, stroke "
                            "width): slower to fit, more robust to how people draw", "Data", widget="augmentCheck",
                            applies_to=("mnist",))
    augment_shapes: bool = setting(False, "Handwriting shapes", "with Augment: also elastic distortion, bent stems, "
                                   "gaps, crossbars on 7s and flags on 1s (how real pens differ from MNIST)", "Data",
                                   widget="augmentShapesCheck", applies_to=("mnist",))
    pen_digits: int = setting(0, "Pen digits", "synthetic pen-stroke digits added to the training images, drawn "
                              "like the drawing pad draws (many styles, pen widths, slants, shaky hands): the pad "
                              "reads more kinds of handwriting; made once, then cached", "Data", lo=0, hi=200000,
                              step=5000, widget="penDigitsSpin", applies_to=("mnist",))
    seq_len: int = setting(100, "Sequence length", "length of each generated temporal-order sequence", "Data",
                           lo=10, hi=1000, step=10, widget="seqLenSpin", unit="steps", applies_to=("temporal-order",))
    permute: bool = setting(False, "Permute pixels", "pixel-mnist: a fixed random permutation of the 784 pixels "
                            "(harder: no local structure)", "Data", widget="permuteCheck",
                            applies_to=("pixel-mnist",))
    cell: str = setting("lstm", "Cell", "recurrent cell: LSTM (gates and a memory cell), GRU (reset and update "
                        "gates) or a plain tanh RNN", "Model", choices=CELL_CHOICES, widget="cellCombo")
    hidden: int = setting(128, "Hidden size", "units in each recurrent layer (the notebook used 128)", "Model",
                          lo=1, hi=4096, step=16, widget="hiddenSpin", unit="units",
                          per_dataset={"temporal-order": 32})
    layers: int = setting(1, "Layers", "stacked recurrent layers", "Model", lo=1, hi=8, widget="layersSpin",
                          per_dataset={"temporal-order": 1})
    bidirectional: bool = setting(False, "Bidirectional", "read the sequence forwards and backwards", "Model",
                                  widget="bidirectionalCheck", per_dataset={"temporal-order": False})
    attention: bool = setting(False, "Attention", "weight every step's output instead of using only the last one",
                              "Model", widget="attentionCheck", per_dataset={"temporal-order": False})
    dropout: float = setting(0.0, "Dropout", "dropout before the classifier (and between layers when stacked)",
                             "Model", lo=0.0, hi=0.9, step=0.05, widget="dropoutSpin")
    epochs: int = setting(5, "Epochs", "passes over the training set", "Training", lo=1, hi=10000,
                          widget="epochsSpin", per_dataset={"temporal-order": 6, "pixel-mnist": 1})
    batch_size: int = setting(64, "Batch size", "samples per optimiser step", "Training", lo=1, hi=65536, step=16,
                              widget="batchSizeSpin")
    lr: float = setting(1e-3, "Learning rate", "Adam's step size (the notebook used 0.001)", "Training",
                        lo=0.0, hi=10.0, lo_open=True, step=1e-4, adaptive=True, widget="learningRateSpin",
                        per_dataset={"temporal-order": 2e-3})
    lr_schedule: str = setting("none", "LR schedule", "how the learning rate changes during training", "Training",
                               choices=SCHEDULE_CHOICES, widget="lrScheduleCombo")
    weight_decay: float = setting(0.0, "Weight decay", "L2 penalty on the weights (0: none)", "Training",
                                  lo=0.0, hi=1.0, step=1e-4, adaptive=True, widget="weightDecaySpin")
    grad_clip: float = setting(0.0, "Gradient clipping", "largest gradient norm per step (0: off); helps when the "
                               "loss explodes", "Training", lo=0.0, hi=1e6, step=0.5, widget="gradClipSpin")
    seed: int = setting(0, "Seed", "same seed + same settings + same device = same result", "Training",
                        lo=0, hi=2_147_483_647, widget="seedSpin")
    device: str = setting("auto", "Device", "auto, cpu, cuda, cuda:N or mps (only the devices present here)",
                          "Compute", widget="deviceCombo")
    threads: int | None = setting(None, "CPU threads", "threads torch may use on the CPU (default: torch's)",
                                  "Compute", lo=1, hi=1024, optional=True, none_text="default",
                                  widget="threadsSpin")
    cpu_split: bool = setting(True, "Split batches over cores", "CPU: run equal parts of each batch on separate "
                              "cores (same maths)", "Compute", exposed=False)
    cpu_kernel: bool = setting(True, "Native kernel", "CPU: the C kernel where it applies (same maths)", "Compute",
                               exposed=False)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the bad setting and its allowed range."""
        for s in SETTINGS:
            s.check(getattr(self, s.name))

    def dataset_problem(self) -> str | None:
        """A value the chosen dataset cannot honour (the form refuses it; loading uses what fits)."""
        for s in SETTINGS:
            problem = s.problem_for(getattr(self, s.name), self.dataset)
            if problem:
                return problem
        return None

    def within_dataset_limits(self) -> "TrainConfig":
        """The same settings with each value the dataset cannot honour set to its limit: what loading the
        data uses anyway (a digits run saved with validation size 5000 validated on 200)."""
        changes = {}
        for s in SETTINGS:
            limit = s.per_dataset_hi.get(self.dataset)
            if limit is not None and getattr(self, s.name) is not None and getattr(self, s.name) > limit[0]:
                changes[s.name] = s.kind(limit[0])
        return self.replace(**changes) if changes else self

    @classmethod
    def for_dataset(cls, dataset: str = "mnist", **given: Any) -> "TrainConfig":
        """The defaults of `dataset` (some settings have their own per dataset), then `given`."""
        SETTING["dataset"].check(dataset)
        values = {s.name: s.default_for(dataset) for s in SETTINGS}
        values.update(given)
        values["dataset"] = dataset
        return cls(**values)

    @property
    def variant_name(self) -> str:
        """A short human name such as 'BiLSTM x2 + attention (128)'."""
        base = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}.get(self.cell, self.cell.upper())
        name = f"Bi{base}" if self.bidirectional else base
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
        if not isinstance(data, dict):
            raise ConfigError(f"a training configuration must be a mapping, not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


SETTINGS: tuple[Setting, ...] = settings_of(TrainConfig)
SETTING: dict[str, Setting] = {s.name: s for s in SETTINGS}
EXPOSED: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.exposed)
