"""One validation layer for everything a checkpoint file says about itself.

A checkpoint is data from outside: a field of the wrong type or value must become one
CheckpointError that names the field, never a TypeError deep in the app. Fields that change what
the model computes (format, version, spec, weights, normalisation) are checked strictly; purely
descriptive ones (config, metrics, history, info) are dropped with a note when damaged, so a good
model is never refused for a bad label. The weights' shapes are compared with the spec on the
"meta" device *before* a real model is built, so a tiny file asking for a huge model costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Mapping

import torch

from lstm_desktop.core.errors import CheckpointError

FORMAT = "lstm-desktop/checkpoint"
VERSION = 1
MAX_FILE_BYTES = 2 << 30  # a checkpoint is loaded whole; more than this is not one of ours
MAX_META_CHARS = 64 << 20
MAX_HISTORY_POINTS = 2_000_000
NORM_LIMIT = 1e6  # |mean| and std at most this; std at least NORM_MIN_STD
NORM_MIN_STD = 1e-6
FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
# ModelSpec field -> (kind, lowest, highest); kinds: "int", "bool", "float", "cell"
SPEC_FIELDS: dict[str, tuple[str, float, float]] = {
    "input_size": ("int", 1, 4096), "seq_len": ("int", 1, 100_000), "hidden": ("int", 1, 4096),
    "layers": ("int", 1, 16), "bidirectional": ("bool", 0, 1), "attention": ("bool", 0, 1),
    "dropout": ("float", 0.0, 0.99), "num_classes": ("int", 2, 10_000), "cell": ("cell", 0, 0),
    "prototypes": ("int", 0, 100_000), "prototype_threshold": ("float", -1.0, 0.99),
    "prototype_boost": ("float", 0.0, 1000.0),
}
DAMAGED_HINT = "The file is damaged or was edited; use another copy, or train the model again."


def damaged(name: str, what: str) -> CheckpointError:
    return CheckpointError(f"{name} is damaged: {what}.", DAMAGED_HINT)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_header(name: str, payload: Any) -> None:
    """format and version: is this our file, and can this version read it?"""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{name} is a PyTorch file but not an lstm-desktop checkpoint.",
                              "Open a file saved by lstm-desktop (File > Save model, or `lstm-desktop train --out`).")
    version = payload.get("version", VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise damaged(name, f"its format version is {_show(version)}, not a whole number from 1")
    if version > VERSION:
        raise CheckpointError(f"{name} was saved by a newer lstm-desktop (format {version}).",
                              "Update lstm-desktop to open it.")


def parse_meta(name: str, payload: dict) -> dict:
    meta = payload.get("meta")
    if not isinstance(meta, str):
        raise damaged(name, f"its metadata is {_kind(meta)}, not JSON text")
    if len(meta) > MAX_META_CHARS:
        raise damaged(name, f"its metadata is {len(meta):,} characters long")
    try:
        data = json.loads(meta)
    except (ValueError, RecursionError) as exc:
        raise damaged(name, f"its metadata is not valid JSON ({str(exc)[:120]})") from exc
    if not isinstance(data, dict):
        raise damaged(name, f"its metadata is {_kind(data)}, not a mapping")
    return data


def check_spec(name: str, meta: dict):
    """The architecture, every field typed and in range, as a ModelSpec."""
    from lstm_desktop.core.models.networks import CELL_MODULES, ModelSpec

    spec = meta.get("spec")
    if not isinstance(spec, dict):
        raise damaged(name, f"its architecture ('spec') is {_kind(spec)}, not a mapping")
    values: dict[str, Any] = {}
    for key, (kind, lo, hi) in SPEC_FIELDS.items():
        if key not in spec:
            continue  # older files: the field's default
        v = spec[key]
        if kind == "bool":
            ok = isinstance(v, bool)
            want = "true or false"
        elif kind == "cell":
            ok = isinstance(v, str) and v in CELL_MODULES
            want = "one of " + ", ".join(CELL_MODULES)
        elif kind == "int":
            ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
            want = f"a whole number from {lo:g} to {hi:g}"
        else:
            ok = is_number(v) and math.isfinite(v) and lo <= v <= hi
            want = f"a number from {lo:g} to {hi:g}"
        if not ok:
            raise damaged(name, f"spec.{key} is {_show(v)}, not {want}")
        values[key] = v
    for key, f in ModelSpec.__dataclass_fields__.items():  # fields added since: typed like their default
        if key in SPEC_FIELDS or key not in spec:
            continue
        v, default = spec[key], f.default
        kind = type(default)
        ok = isinstance(v, bool) if kind is bool else (is_number(v) and (kind is float or isinstance(v, int))
                                                       if kind in (int, float) else isinstance(v, kind))
        if not ok or (kind is float and not math.isfinite(v)):
            raise damaged(name, f"spec.{key} is {_show(v)}, not like {default!r}")
        values[key] = v
    return ModelSpec(**values)


def check_state(name: str, state: Any, spec) -> None:
    """Keys, shapes and dtypes of the weights against the spec (on the meta device), then finiteness."""
    from lstm_desktop.core.models.networks import LSTMClassifier

    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise damaged(name, f"its weights are {_kind(state)}, not a table of tensors")
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in LSTMClassifier(spec).state_dict().items()}
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        what = f"missing {', '.join(missing[:3])}" if missing else f"unexpected {', '.join(extra[:3])}"
        raise CheckpointError(f"{name} holds weights for a different architecture ({what}).", DAMAGED_HINT)
    for key, shape in expected.items():
        t = state[key]
        if not isinstance(t, torch.Tensor) or t.dtype not in FLOAT_DTYPES:
            raise damaged(name, f"weight {key} is {_kind(t)}, not a floating-point tensor")
        if tuple(t.shape) != shape:
            raise CheckpointError(f"{name} holds weights for a different architecture ({key} is "
                                  f"{tuple(t.shape)}, its spec needs {shape}).", DAMAGED_HINT)
    for key in expected:
        if not bool(torch.isfinite(state[key]).all()):
            raise damaged(name, f"weight {key} holds NaN or infinite values")


def weights_digest(state: Mapping[str, torch.Tensor]) -> str:
    """sha256 of every weight's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return "sha256:" + h.hexdigest()


def check_digest(name: str, payload: dict) -> None:
    """Files saved with a digest must match it (a flipped byte is caught); older files have none."""
    if "digest" not in payload:
        return
    stored = payload["digest"]
    if not isinstance(stored, str):
        raise damaged(name, f"its weights digest is {_kind(stored)}")
    if stored != weights_digest(payload["state_dict"]):
        raise damaged(name, "its weights do not match their saved digest (bytes changed on disk or in transfer)")


def check_normalization(name: str, meta: dict, default_mean: float, default_std: float) -> tuple[float, float]:
    norm = meta.get("normalization")
    if norm is None:
        return default_mean, default_std
    if not isinstance(norm, dict):
        raise damaged(name, f"its normalization is {_kind(norm)}, not a mapping of mean and std")
    mean, std = norm.get("mean", default_mean), norm.get("std", default_std)
    if not is_number(mean) or not math.isfinite(mean) or abs(mean) > NORM_LIMIT:
        raise damaged(name, f"normalization.mean is {_show(mean)}, not a finite number")
    if not is_number(std) or not math.isfinite(std) or not NORM_MIN_STD <= std <= NORM_LIMIT:
        raise damaged(name, f"normalization.std is {_show(std)}, not a number from {NORM_MIN_STD:g} "
                            f"to {NORM_LIMIT:g}")
    return float(mean), float(std)


def descriptive_fields(meta: dict) -> tuple[Any, Any, dict, dict, list[str]]:
    """config, metrics, history and info; a damaged one is dropped and noted, never fatal."""
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.errors import LstmDesktopError

    notes: list[str] = []
    config = None
    if meta.get("config"):
        try:
            config = TrainConfig.from_dict(meta["config"])
        except (LstmDesktopError, TypeError, ValueError) as exc:
            notes.append(f"its training settings were ignored ({str(exc).splitlines()[0][:160]})")
    metrics = None
    if meta.get("metrics"):
        metrics = _metrics(meta["metrics"])
        if metrics is None:
            notes.append("its saved test scores were ignored (damaged); evaluate the model to score it again")
    history = meta.get("history") or {}
    if not _good_history(history):
        history = {}
        notes.append("its training curves were ignored (damaged)")
    info = meta.get("info") or {}
    if not isinstance(info, dict):
        info = {}
        notes.append("its run details were ignored (damaged)")
    return config, metrics, history, info, notes


def _metrics(data: Any):
    from lstm_desktop.core.training.metrics import Metrics

    if not isinstance(data, dict):
        return None
    for key in ("accuracy", "precision", "recall", "f1"):
        v = data.get(key)
        if not is_number(v) or not 0.0 <= v <= 1.0:
            return None
    samples = data.get("samples", 0)
    confusion = data.get("confusion", [])
    per_class = data.get("per_class", [])
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 0:
        return None
    if not isinstance(confusion, list) or not all(
            isinstance(r, list) and all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in r)
            for r in confusion):
        return None
    fields = {"label": int, "precision": float, "recall": float, "f1": float, "support": int}
    if not isinstance(per_class, list) or not all(
            isinstance(c, dict) and set(c) == set(fields) and all(is_number(c[k]) for k in fields)
            for c in per_class):
        return None
    try:
        return Metrics.from_dict(data)
    except (TypeError, ValueError, KeyError):
        return None


def _good_history(history: Any) -> bool:
    if not isinstance(history, dict):
        return False
    total = 0
    for key, values in history.items():
        if not isinstance(key, str) or not isinstance(values, list):
            return False
        total += len(values)
        if total > MAX_HISTORY_POINTS or not all(is_number(v) for v in values):
            return False
    return True


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
