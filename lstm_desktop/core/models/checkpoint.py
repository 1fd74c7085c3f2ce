"""One file per model: weights + architecture + config + metrics + curves + normalisation.

Saved with torch.save and loaded with `weights_only=True`, so opening a file never runs code from
it; metadata travels as a JSON string, and a sha256 digest of the weights lets a load notice a
changed byte. Every field is validated by core/models/checkpoint_meta.py before a model is built. Writes
are atomic; OS failures (full disk, permissions) become CheckpointErrors via core/files/oserrors.py.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lstm_desktop.core.models import checkpoint_meta as cm
from lstm_desktop.core.files.atomic import atomic_write
from lstm_desktop.core.models.checkpoint_meta import FORMAT, VERSION  # noqa: F401 - re-exported
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import MEAN, STD
from lstm_desktop.core.errors import CheckpointError
from lstm_desktop.core.training.metrics import Metrics
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
from lstm_desktop.core.files.oserrors import os_error, os_errors

_ACCESS_ERRNOS = (errno.EACCES, errno.EPERM, errno.EIO, errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP,
                  errno.EMFILE, errno.ENAMETOOLONG)


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
    notes: list[str] = field(default_factory=list)  # damaged descriptive fields that were dropped at load


def save_checkpoint(path: str | os.PathLike[str], ckpt: Checkpoint) -> Path:
    """Write atomically; a failure (full disk, no permission) is a CheckpointError and the old file stays."""
    meta = {
        "spec": ckpt.spec.to_dict(),
        "config": ckpt.config.to_dict() if ckpt.config else None,
        "metrics": ckpt.metrics.to_dict() if ckpt.metrics else None,
        "history": ckpt.history,
        "normalization": {"mean": ckpt.mean, "std": ckpt.std},
        "info": ckpt.info,
    }
    state = {k: v.detach().to("cpu").contiguous() for k, v in ckpt.model.state_dict().items()}
    payload = {"format": FORMAT, "version": VERSION, "meta": json.dumps(meta), "state_dict": state,
               "digest": cm.weights_digest(state)}
    target = Path(path).expanduser()
    with os_errors("save the model to", target, CheckpointError):
        with atomic_write(target) as fh:
            torch.save(payload, fh)
    return target


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load safely; every failure becomes a CheckpointError that says what the file is not."""
    p = Path(path).expanduser()
    _check_file(p)
    try:
        payload = torch.load(p, map_location=map_location, weights_only=True)
    except OSError as exc:
        if exc.errno in _ACCESS_ERRNOS:  # the file system failed; other OSErrors are torch reading junk
            raise os_error(exc, "read", p, CheckpointError) from exc
        raise _unreadable(p) from exc
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, UnicodeDecodeError,
            AttributeError, TypeError, KeyError, IndexError, MemoryError, OverflowError, RecursionError) as exc:
        raise _unreadable(p) from exc
    name = p.name
    cm.check_header(name, payload)
    meta = cm.parse_meta(name, payload)
    spec = cm.check_spec(name, meta)
    cm.check_state(name, payload.get("state_dict"), spec)
    cm.check_digest(name, payload)
    mean, std = cm.check_normalization(name, meta, MEAN, STD)
    config, metrics, history, info, notes = cm.descriptive_fields(meta)
    model = LSTMClassifier(spec)
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as exc:  # pragma: no cover - check_state compared keys and shapes already
        raise CheckpointError(f"{name} holds weights for a different architecture: {_first_line(exc)}",
                              cm.DAMAGED_HINT) from exc
    model.eval()
    return Checkpoint(model, spec, config, metrics, history, mean, std, info, p, notes)


def _unreadable(p: Path) -> CheckpointError:
    return CheckpointError(f"{p.name} is not a readable lstm-desktop checkpoint (corrupt, truncated "
                           f"or another kind of file).", "Open a .pt file saved by lstm-desktop, or train a new model.")


def _check_file(p: Path) -> None:
    """A regular file of a sane size, readable: before torch opens it (a FIFO would block forever)."""
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CheckpointError(f"No checkpoint at {p}.", "Check the path, or train a model first.") from None
    except OSError as exc:
        raise os_error(exc, "open", p, CheckpointError) from exc
    if stat.S_ISDIR(st.st_mode):
        raise CheckpointError(f"No checkpoint at {p}: it is a folder.", "Give the path of a .pt file.")
    if not stat.S_ISREG(st.st_mode):
        raise CheckpointError(f"{p} is not a regular file (a pipe, device or socket).",
                              "Give the path of a .pt file saved by lstm-desktop.")
    if st.st_size > cm.MAX_FILE_BYTES:
        raise CheckpointError(f"{p.name} is {st.st_size / 2**30:.1f} GiB, too large to be an lstm-desktop "
                              f"checkpoint.", "Open a .pt file saved by lstm-desktop.")
    if not os.access(p, os.R_OK):
        raise CheckpointError(f"Cannot read {p}: permission denied.", f"Check the permissions of {p}.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
