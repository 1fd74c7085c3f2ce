"""Events the engine emits while it works, and the observers (callbacks) that receive them.

Events are plain frozen dataclasses of numbers and strings, safe to send across threads. Each one
names the hook it is delivered to (`HOOK`); a `Callback` has every hook and each does nothing, so
an observer overrides only what it cares about (Lightning's Callback is the model). Plain
callables are accepted too: they receive every event. Dispatch is one `getattr`, never a chain of
isinstance checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Union


@dataclass(frozen=True)
class RunStarted:
    """A training run begins: before the data is loaded."""

    HOOK: ClassVar[str] = "on_run_start"
    config: Any  # core.config.TrainConfig (frozen)


@dataclass(frozen=True)
class DownloadProgress:
    HOOK: ClassVar[str] = "on_download_progress"
    file: str
    done_bytes: int
    total_bytes: int  # 0 when the server does not say


@dataclass(frozen=True)
class DataProgress:
    """Training data being made before the first epoch (pen digits, drawn on their first use)."""

    HOOK: ClassVar[str] = "on_data_progress"
    what: str  # "pen digits"
    done: int
    total: int


@dataclass(frozen=True)
class FitStarted:
    HOOK: ClassVar[str] = "on_fit_start"
    epochs: int
    batches_per_epoch: int
    train_size: int
    val_size: int
    device: str
    parameters: int
    estimated_epoch_seconds: float = 0.0  # long datasets (pixel-mnist) on CPU: timed before epoch 1; 0 = none
    step: str = ""  # which training step runs the batches, and how it was chosen (fast_path.make_step)


@dataclass(frozen=True)
class BatchEnded:
    HOOK: ClassVar[str] = "on_batch_end"
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
    HOOK: ClassVar[str] = "on_epoch_end"
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
class ProbeScored:
    """The user's probe image (e.g. the digit on the pad) re-scored after an epoch."""

    HOOK: ClassVar[str] = "on_probe_scored"
    epoch: int  # 0-based
    probabilities: tuple[float, ...]


@dataclass(frozen=True)
class GradientFlowMeasured:
    """Mean norm of dLoss/dh_t at every time step t, on a small fixed batch."""

    HOOK: ClassVar[str] = "on_gradient_flow"
    epoch: int  # 0-based
    batch: int  # 0-based within the epoch
    progress: float  # in epochs, as BatchEnded.progress
    norms: tuple[float, ...]


@dataclass(frozen=True)
class CheckpointSaved:
    """The model of a finished epoch (or the final one) is on disk at `path`."""

    HOOK: ClassVar[str] = "on_checkpoint_saved"
    path: str
    epoch: int  # epochs finished in the saved model
    best_path: str = ""  # the best-validation model so far, when kept
    final: bool = False  # the end-of-run file, with test metrics


@dataclass(frozen=True)
class FitFailed:
    HOOK: ClassVar[str] = "on_fit_failed"
    message: str
    hint: str
    kind: str  # "nan", "memory", "data", "device", "error"


@dataclass(frozen=True)
class FitEnded:
    HOOK: ClassVar[str] = "on_fit_end"
    epochs_completed: int
    seconds: float
    train_samples_per_second: float
    stopped: bool  # the user asked to stop early


@dataclass(frozen=True)
class TestScored:
    """The final model's test-set metrics (core.metrics.Metrics: plain numbers)."""

    HOOK: ClassVar[str] = "on_test_end"
    metrics: Any


@dataclass(frozen=True)
class RunEnded:
    """The run is over: status is finished, stopped or failed; message says why when not finished."""

    HOOK: ClassVar[str] = "on_run_end"
    status: str
    message: str = ""
    hint: str = ""
    epochs_completed: int = 0
    seconds: float = 0.0
    summary: dict = field(default_factory=dict)


Event = Union[RunStarted, DownloadProgress, DataProgress, FitStarted, BatchEnded, EpochEnded, ProbeScored,
              GradientFlowMeasured, CheckpointSaved, FitFailed, FitEnded, TestScored, RunEnded]


class Callback:
    """A training observer: every hook exists and does nothing; override the ones you need."""

    def on_run_start(self, event: RunStarted) -> None: ...
    def on_download_progress(self, event: DownloadProgress) -> None: ...
    def on_data_progress(self, event: DataProgress) -> None: ...
    def on_fit_start(self, event: FitStarted) -> None: ...
    def on_batch_end(self, event: BatchEnded) -> None: ...
    def on_epoch_end(self, event: EpochEnded) -> None: ...
    def on_probe_scored(self, event: ProbeScored) -> None: ...
    def on_gradient_flow(self, event: GradientFlowMeasured) -> None: ...
    def on_checkpoint_saved(self, event: CheckpointSaved) -> None: ...
    def on_fit_failed(self, event: FitFailed) -> None: ...
    def on_fit_end(self, event: FitEnded) -> None: ...
    def on_test_end(self, event: TestScored) -> None: ...
    def on_run_end(self, event: RunEnded) -> None: ...


class FunctionCallback(Callback):
    """A plain function `fn(event)` as a callback: it receives every event."""

    def __init__(self, fn: Callable[[Any], None]) -> None:
        self.fn = fn

    def __getattribute__(self, name: str):
        if name.startswith("on_"):
            return object.__getattribute__(self, "fn")
        return object.__getattribute__(self, name)


CallbackLike = Union[Callback, Callable[[Any], None]]


def as_callbacks(callbacks: Iterable[CallbackLike]) -> list[Callback]:
    """Callbacks as given, with plain functions wrapped."""
    return [cb if isinstance(cb, Callback) else FunctionCallback(cb) for cb in callbacks]


def dispatch(callbacks: Iterable[Callback], event: Event) -> None:
    """Deliver one event to the hook it names on every callback, in order."""
    hook = event.HOOK
    for cb in callbacks:
        getattr(cb, hook)(event)
