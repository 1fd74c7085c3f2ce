"""Runs as a Qt-free, evented model: the CLI, torchrun and the window create and update runs here.

A `Run` is one training run (id, name, status, config, curves, metrics, the model it produced and
where that is). A `Runs` collection owns the runs and emits `added(run)`, `changed(run, names)` and
`removed(run)`; every change goes through `Runs.update`/`touch`, so a subscriber (a widget, the
store's bridge) hears of it once. napari's EventedModel/components are the model; the emitter is a
plain Python one (no Qt), delivered on the thread that made the change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator


def now_iso() -> str:
    """A run's timestamps: local time with its UTC offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Signal:
    """A minimal event emitter: connect, disconnect, emit. A slot that raises does not stop the others."""

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> Callable[..., Any]:
        if slot not in self._slots:
            self._slots.append(slot)
        return slot

    def disconnect(self, slot: Callable[..., Any] | None = None) -> None:
        """Remove one slot, or every slot when none is named."""
        if slot is None:
            self._slots.clear()
        elif slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        errors: list[Exception] = []
        for slot in list(self._slots):
            try:
                slot(*args)
            except Exception as exc:  # one broken observer must not hide the event from the rest
                errors.append(exc)
        if errors:
            raise errors[0]

    def __len__(self) -> int:
        return len(self._slots)


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died while it trained (found at the next open of the store)
    DAMAGED = "damaged"  # its stored record could not be read whole; its message says what was kept

    @property
    def active(self) -> bool:
        """A process is (or should be) working on it: not to be deleted or marked ended."""
        return self in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED)

    def __str__(self) -> str:
        return self.value


@dataclass(eq=False)
class Run:
    """One run. `history` holds the curves (TrainingOutcome.fit.history's keys); it is empty for a
    stored run until the store fills it (`RunStore.fill_curves`): listing never reads curves."""

    id: int
    name: str = ""
    status: RunStatus = RunStatus.QUEUED
    config: Any = None  # core.config.TrainConfig, or None (a model file saved without one)
    source: str = "window"  # window, cli, torchrun, opened, adapted
    dataset: str = ""
    variant: str = ""  # e.g. "LSTM (128)"; from the config when not given
    created: str = ""  # ISO 8601, local time with offset
    started: str | None = None
    ended: str | None = None
    seconds: float | None = None
    device: str = ""
    torch_version: str = ""
    host: str = ""
    machine: str = ""
    parameters: int | None = None
    epochs_done: int = 0
    epochs_total: int | None = None
    samples_per_second: float | None = None
    metrics: Any = None  # core.metrics.Metrics (test set), or None
    notes: str = ""
    tags: tuple[str, ...] = ()
    checkpoint_path: str = ""  # the run's model file: relative to the store's home when inside it
    best_path: str = ""
    message: str = ""
    hint: str = ""
    deleted_at: str | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    probe: list[tuple[float, list[float]]] = field(default_factory=list)  # (epoch, 10 probabilities)
    gradient_flow: list[tuple[float, list[float]]] = field(default_factory=list)  # (progress, norms)
    extra: dict[str, Any] = field(default_factory=dict)  # the window's own (loaded model, test images)

    def __post_init__(self) -> None:
        self.status = RunStatus(self.status)
        self.tags = tuple(self.tags or ())
        if not self.name:
            self.name = f"Run {self.id}"
        if (not self.dataset or not self.variant or self.epochs_total is None) and self.config is not None:
            self.dataset = self.dataset or getattr(self.config, "dataset", "")
            self.variant = self.variant or getattr(self.config, "variant_name", "")
            if self.epochs_total is None:
                self.epochs_total = getattr(self.config, "epochs", None)

    @property
    def accuracy(self) -> float | None:
        return self.metrics.accuracy if self.metrics is not None else None

    @property
    def label(self) -> str:
        """The run as a menu or status bar names it: 'Run 3 · LSTM (128) · 98.1%'."""
        parts = [self.name]
        if self.variant:
            parts.append(self.variant)
        if self.metrics is not None:
            parts.append(f"{self.metrics.accuracy * 100:.1f}%")
        return " · ".join(parts)

    def summary(self) -> dict[str, Any]:
        """JSON-ready fields without the curves and the window's extras (`runs list --json`)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("history", "probe", "gradient_flow", "extra"):
                continue
            value = getattr(self, f.name)
            if f.name == "config":
                value = value.to_dict() if value is not None else None
            elif f.name == "metrics":
                value = value.to_dict() if value is not None else None
            elif f.name == "status":
                value = value.value
            elif f.name == "tags":
                value = list(value)
            out[f.name] = value
        out["accuracy"] = self.accuracy
        return out

    def __repr__(self) -> str:
        return f"Run(id={self.id}, name={self.name!r}, status={self.status.value})"


FIELD_NAMES = frozenset(f.name for f in fields(Run))


class RunsEvents:
    __slots__ = ("added", "changed", "removed")

    def __init__(self) -> None:
        self.added = Signal()  # (run)
        self.changed = Signal()  # (run, tuple of field names)
        self.removed = Signal()  # (run)


class Runs:
    """The runs of this session (stored ones and new ones) by id, in the order they were added."""

    def __init__(self, runs: Iterable[Run] = ()) -> None:
        self.events = RunsEvents()
        self._runs: dict[int, Run] = {}
        for run in runs:
            self._runs[run.id] = run

    def add(self, run: Run) -> Run:
        if run.id in self._runs:
            raise ValueError(f"run {run.id} is already in the collection")
        self._runs[run.id] = run
        self.events.added.emit(run)
        return run

    def remove(self, run_id: int) -> Run | None:
        run = self._runs.pop(int(run_id), None)
        if run is not None:
            self.events.removed.emit(run)
        return run

    def update(self, run: Run, **changes: Any) -> tuple[str, ...]:
        """Set fields of `run` and emit one `changed` event naming those that really changed."""
        changed = []
        for name, value in changes.items():
            if name not in FIELD_NAMES:
                raise AttributeError(f"Run has no field {name!r}")
            if name == "status":
                value = RunStatus(value)
            elif name == "tags":
                value = tuple(value or ())
            if getattr(run, name) is not value and getattr(run, name) != value:
                setattr(run, name, value)
                changed.append(name)
        if changed and run.id in self._runs:
            self.events.changed.emit(run, tuple(changed))
        return tuple(changed)

    def touch(self, run: Run, *names: str) -> None:
        """Announce an in-place change (a curve appended to `history`, an entry in `extra`)."""
        if run.id in self._runs:
            self.events.changed.emit(run, tuple(names))

    def next_id(self) -> int:
        """An id for a run the store does not know (no store this session): above every id here."""
        return max(self._runs, default=0) + 1

    def get(self, run_id: int | None) -> Run | None:
        return self._runs.get(int(run_id)) if run_id is not None else None

    def __getitem__(self, run_id: int) -> Run:
        return self._runs[int(run_id)]

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._runs

    def __iter__(self) -> Iterator[Run]:
        return iter(list(self._runs.values()))

    def __len__(self) -> int:
        return len(self._runs)
