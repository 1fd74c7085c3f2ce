"""One file per model: weights + architecture + config + metrics + curves + normalisation.

Saved with torch.save and loaded with `weights_only=True`, so opening a file never runs code from
it; metadata travels as a JSON string. Writes are atomic.
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lstm_desktop.core.atomic import atomic_write
from lstm_desktop.core.config import TrainConfig
from lstm_desktop.core.data import MEAN, STD
from lstm_desktop.core.errors import CheckpointError, ConfigError
from lstm_desktop.core.metrics import Metrics
from lstm_desktop.core.models import LSTMClassifier, ModelSpec

FORMAT = "lstm-desktop/checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    model: LSTMClassifier
    spec: ModelSpec
    config: TrainConfig | None = None
    metrics: Metrics | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    mean: float = MEAN
    std: float = STD
    info: dict[str, Any] = field(default_factory=dict)  # seconds, samples/s, epochs, dataset...
    path: Path | None = None


def save_checkpoint(path: str | os.PathLike[str], ckpt: Checkpoint) -> Path:
    meta = {
        "spec": ckpt.spec.to_dict(),
        "config": ckpt.config.to_dict() if ckpt.config else None,
        "metrics": ckpt.metrics.to_dict() if ckpt.metrics else None,
        "history": ckpt.history,
        "normalization": {"mean": ckpt.mean, "std": ckpt.std},
        "info": ckpt.info,
    }
    state = {k: v.detach().to("cpu").contiguous() for k, v in ckpt.model.state_dict().items()}
    payload = {"format": FORMAT, "version": VERSION, "meta": json.dumps(meta), "state_dict": state}
    with atomic_write(path) as fh:
        torch.save(payload, fh)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load safely; every failure becomes a CheckpointError that says what the file is not."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise CheckpointError(f"No checkpoint at {p}.", "Check the path, or train a model first.")
    try:
        payload = torch.load(p, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError,
            UnicodeDecodeError, AttributeError, TypeError, KeyError, IndexError, OSError) as exc:
        raise CheckpointError(f"{p.name} is not a readable lstm-desktop checkpoint (corrupt, truncated "
                              f"or another kind of file).",
                              "Open a .pt file saved by lstm-desktop, or train a new model.") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{p.name} is a PyTorch file but not an lstm-desktop checkpoint.",
                              "Open a file saved by lstm-desktop (File > Save model, or `lstm-desktop train --out`).")
    if int(payload.get("version", 0)) > VERSION:
        raise CheckpointError(f"{p.name} was saved by a newer lstm-desktop (format {payload['version']}).",
                              "Update lstm-desktop to open it.")
    try:
        meta = json.loads(payload["meta"])
        spec = ModelSpec.from_dict(meta["spec"])
        model = LSTMClassifier(spec)
        model.load_state_dict(payload["state_dict"], strict=True)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{p.name} does not match its own architecture description: {_first_line(exc)}",
                              "The file is damaged or was edited; train or download it again.") from exc
    except RuntimeError as exc:  # load_state_dict size/key mismatch
        raise CheckpointError(f"{p.name} holds weights for a different architecture: {_first_line(exc)}",
                              "The file is damaged or was edited; train or download it again.") from exc
    model.eval()
    try:
        config = TrainConfig.from_dict(meta["config"]) if meta.get("config") else None
    except (ConfigError, TypeError):
        config = None
    metrics = Metrics.from_dict(meta["metrics"]) if meta.get("metrics") else None
    norm = meta.get("normalization") or {}
    return Checkpoint(model, spec, config, metrics, meta.get("history") or {},
                      float(norm.get("mean", MEAN)), float(norm.get("std", STD)), meta.get("info") or {}, p)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
