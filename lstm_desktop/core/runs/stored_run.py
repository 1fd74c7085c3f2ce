"""A run read from the run store, whose config and metrics stay JSON until first used: listing
1,000 runs must not parse 1,000 configs and confusion matrices (the table shows ~30 at a time)."""

from __future__ import annotations

import json
import re
from typing import Any

from lstm_desktop.core.runs.evented_runs import Run, RunStatus

_STATUS = {s.value: s for s in RunStatus}
_CONFIGS: dict[str, Any] = {}  # stored config JSON -> TrainConfig (frozen, so shared between runs)


def decode_config(text: str | None) -> Any:
    """A TrainConfig from stored JSON (None when absent or no longer valid), parsed once per text."""
    if not text:
        return None
    config = _CONFIGS.get(text)
    if config is None:
        from lstm_desktop.core.training.config import TrainConfig
        from lstm_desktop.core.errors import ConfigError

        try:
            config = TrainConfig.from_dict(json.loads(text))
        except (ConfigError, TypeError, ValueError):
            return None
        if len(_CONFIGS) > 20_000:
            _CONFIGS.clear()
        _CONFIGS[text] = config
    return config


def decode_metrics(text: str | None) -> Any:
    """Metrics from stored JSON; ValueError when the text is not valid metrics."""
    from lstm_desktop.core.training.metrics import Metrics

    if not text:
        return None
    try:
        return Metrics.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(str(exc)) from exc


_NUMBER = r"(-?[0-9][0-9.eE+-]*)"
_METRICS_HEAD = re.compile(r'\{"accuracy": %s, "precision": [^,]+, "recall": [^,]+, "f1": %s[,}]' % (_NUMBER, _NUMBER))


def accuracy_f1(text: str) -> tuple[float, float]:
    """(accuracy, F1) from stored metrics JSON, read from its head when it is as Metrics.to_dict
    writes it (its first four keys), else parsed whole; (-1, -1) when unreadable. Sorting 10,000
    runs by accuracy parsed each whole JSON (confusion matrix and all) in half a second."""
    head = _METRICS_HEAD.match(text)
    try:
        if head is not None:
            return float(head[1]), float(head[2])
        d = json.loads(text)
        return float(d["accuracy"]), float(d["f1"])
    except (ValueError, KeyError, TypeError):
        return -1.0, -1.0


def decode_tags(text: Any) -> tuple[str, ...]:
    """Tags from their stored JSON list; ValueError when that is not a list of strings."""
    if isinstance(text, (tuple, list)):
        return tuple(map(str, text))
    if not text or text == "[]":
        return ()
    tags = json.loads(text)
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("not a list of words")
    return tuple(tags)


_NUMBERS = {"seconds": float, "samples_per_second": float, "parameters": int, "epochs_total": int,
            "epochs_done": int}
_TEXTS = ("name", "source", "dataset", "variant", "created", "device", "torch_version", "host", "machine",
          "notes", "checkpoint_path", "best_path", "message", "hint")


class StoredRun(Run):
    """A Run whose `config` and `metrics` are decoded from their stored JSON on first access.

    A value the store holds damaged (a status this version does not know, JSON that does not parse,
    text in a number column) is read as damaged (the status `damaged`, an empty value) with a note
    in `message`: one bad row never stops the others from being listed, shown or opened.
    """

    def __post_init__(self) -> None:  # the stored columns are complete: no defaults to derive
        status = self.status
        if not isinstance(status, RunStatus):
            self.status = _STATUS.get(status, RunStatus.DAMAGED)
            if self.status is RunStatus.DAMAGED and status != RunStatus.DAMAGED.value:
                self.note_damage(f"its stored status {str(status)[:40]!r} is not one this version knows")
        for name in _TEXTS:
            value = getattr(self, name)
            if not isinstance(value, str):
                setattr(self, name, "" if value is None else str(value))
        for name, kind in _NUMBERS.items():
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                setattr(self, name, 0 if name == "epochs_done" else None)
                self.note_damage(f"its {name.replace('_', ' ')} ({str(value)[:20]!r}) is not a number")
            elif value is not None:
                setattr(self, name, kind(value))
        try:
            self.tags = decode_tags(self.tags)
        except (ValueError, TypeError):
            self.tags = ()
            self.note_damage("its tags are not a readable list")
        if not self.name:
            self.name = f"Run {self.id}"

    def note_damage(self, what: str) -> None:
        """Say in the run's message what was read as damaged (once per thing)."""
        note = f"Damaged in the run store: {what}."
        if note not in self.message:
            self.message = f"{self.message} {note}".strip() if isinstance(self.message, str) else note

    @property  # type: ignore[override]
    def config(self) -> Any:
        value = self.__dict__.get("_config")
        if isinstance(value, str):
            value = self.__dict__["_config"] = decode_config(value)
            if value is None:
                self.note_damage("its settings cannot be read")
        return value

    @config.setter
    def config(self, value: Any) -> None:
        self.__dict__["_config"] = value

    @property  # type: ignore[override]
    def metrics(self) -> Any:
        value = self.__dict__.get("_metrics")
        if isinstance(value, str):
            try:
                value = decode_metrics(value)
            except ValueError:
                value = None
                self.note_damage("its test metrics cannot be read")
            self.__dict__["_metrics"] = value
        return value

    @metrics.setter
    def metrics(self, value: Any) -> None:
        self.__dict__["_metrics"] = value
