"""What `train` prints at the end (in one process and under torchrun), and the run store's recording
of a command-line run."""

from __future__ import annotations

import json
import sys
from typing import Any

from lstm_desktop.core.training.config import TrainConfig


def print_outcome(outcome, as_json: bool, **extra: Any) -> None:
    """The end of `train`: the report table, where the model went, and the JSON summary line."""
    if outcome.metrics is not None:
        print()
        print(outcome.metrics.report())
    where = f", {extra['world_size']} processes" if extra.get("world_size") else ""
    if outcome.saved_to:
        n = outcome.fit.epochs_completed
        print(f"saved {outcome.saved_to}  ({n} epoch{'s' if n != 1 else ''}, {outcome.fit.seconds:.1f} s, "
              f"{outcome.fit.train_samples_per_second:,.0f} training samples/s{where})")
    elif outcome.fit.epochs_completed == 0:
        print("no epoch finished; nothing was saved")
    if as_json:
        print(json.dumps({**outcome.summary(), **extra}))
    sys.stdout.flush()


def _recording(config: TrainConfig, source: str):
    """The run store's recorder for this run (core.recorder), or None where there is no store."""
    try:
        from lstm_desktop.core.runs.recorder import open_recording
    except ModuleNotFoundError:
        return None
    return open_recording(config, source=source)
