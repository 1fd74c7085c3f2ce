"""A run read from the run store, whose config and metrics stay JSON until first used: listing
1,000 runs must not parse 1,000 configs and confusion matrices (the table shows ~30 at a time)."""

from __future__ import annotations

import json
from typing import Any

from lstm_desktop.core.runs import Run, RunStatus

_STATUS = {s.value: s for s in RunStatus}
_CONFIGS: dict[str, Any] = {}  # stored config JSON -> TrainConfig (frozen, so shared between runs)


def decode_config(text: str | None) -> Any:
    """A TrainConfig from stored JSON (None when absent or no longer valid), parsed once per text."""
    if not text:
        return None
    config = _CONFIGS.get(text)
    if config is None:
        from lstm_desktop.core.config import TrainConfig
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
    from lstm_desktop.core.metrics import Metrics

    return Metrics.from_dict(json.loads(text)) if text else None


class StoredRun(Run):
    """A Run whose `config` and `metrics` are decoded from their stored JSON on first access."""

    def __post_init__(self) -> None:  # the stored columns are complete: no defaults to derive
        self.status = _STATUS[self.status] if isinstance(self.status, str) else RunStatus(self.status)
        if not self.name:
            self.name = f"Run {self.id}"

    @property  # type: ignore[override]
    def config(self) -> Any:
        value = self.__dict__.get("_config")
        if isinstance(value, str):
            value = self.__dict__["_config"] = decode_config(value)
        return value

    @config.setter
    def config(self, value: Any) -> None:
        self.__dict__["_config"] = value

    @property  # type: ignore[override]
    def metrics(self) -> Any:
        value = self.__dict__.get("_metrics")
        if isinstance(value, str):
            value = self.__dict__["_metrics"] = decode_metrics(value)
        return value

    @metrics.setter
    def metrics(self, value: Any) -> None:
        self.__dict__["_metrics"] = value
