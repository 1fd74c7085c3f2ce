"""Events the engine emits while it works: plain numbers only, safe to send across threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union


@dataclass(frozen=True)
class DownloadProgress:
    file: str
    done_bytes: int
    total_bytes: int  # 0 when the server does not say


@dataclass(frozen=True)
class FitStarted:
    epochs: int
    batches_per_epoch: int
    train_size: int
    val_size: int
    device: str
    parameters: int
    start_epoch: int = 0


@dataclass(frozen=True)
class BatchEnded:
    epoch: int  # 0-based
    batch: int  # 0-based within the epoch
    batches: int
    loss: float
    accuracy: float
    samples_per_second: float
    lr: float

    @property
    def progress(self) -> float:
        """Position on an x axis measured in epochs (1.0 = end of the first epoch)."""
        return self.epoch + (self.batch + 1) / self.batches


@dataclass(frozen=True)
class EpochEnded:
    epoch: int  # 0-based
    epochs: int
    train_loss: float
    train_accuracy: float
    val_loss: float  # nan when there is no validation split
    val_accuracy: float
    seconds: float
    samples_per_second: float
    lr: float


@dataclass(frozen=True)
class FitEnded:
    epochs_completed: int
    seconds: float
    train_samples_per_second: float
    stopped: bool  # the user asked to stop early


@dataclass(frozen=True)
class FitFailed:
    message: str
    hint: str
    kind: str  # "nan", "memory", "data", "device", "error"


@dataclass(frozen=True)
class ProbeScored:
    """The user's probe image (e.g. the digit on the pad) re-scored after an epoch."""

    epoch: int  # 0-based
    probabilities: tuple[float, ...]


Event = Union[DownloadProgress, FitStarted, BatchEnded, EpochEnded, FitEnded, FitFailed, ProbeScored]
Callback = Callable[[Event], None]
