"""Scoring a saved model on its dataset's test set: the one function the CLI and the window call."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_desktop.core.models.checkpoint import Checkpoint
from lstm_desktop.core.training.control import TrainingControl
from lstm_desktop.core.errors import CheckpointError, DataError
from lstm_desktop.core.training.metrics import Metrics


@dataclass
class Scored:
    metrics: Metrics
    dataset: str
    images: np.ndarray  # (N, T, F) model inputs, for drill-down views
    labels: np.ndarray
    predictions: np.ndarray
    seconds: float


def dataset_of(ckpt: Checkpoint) -> str:
    """The dataset a checkpoint was trained on (older files: guessed from the input shape)."""
    info = ckpt.info or {}
    if isinstance(info.get("dataset"), str) and info["dataset"]:
        return info["dataset"]
    if ckpt.config is not None:
        return ckpt.config.dataset
    return "digits" if ckpt.spec.seq_len == 8 else "mnist"


def data_dir_for(ckpt: Checkpoint, flag: str | None) -> str | None:
    """Where to look for the test set: the flag, then $LSTM_DESKTOP_DATA, then the folder the model
    was trained from if it is an absolute path that still holds the data, then the default.

    A stored relative path is never used: it meant something only in the folder training ran in.
    """
    from lstm_desktop.core.data.image_sets import ENV_DATA_DIR
    from lstm_desktop.core.data.mnist_files import missing_mnist_files

    if flag:
        return flag
    if os.environ.get(ENV_DATA_DIR):
        return os.environ[ENV_DATA_DIR]
    stored = ckpt.config.data_dir if ckpt.config is not None else None
    if stored and Path(stored).expanduser().is_absolute() and not missing_mnist_files(Path(stored).expanduser()):
        return stored
    return None


def score_checkpoint(ckpt: Checkpoint, data_dir: str | None = None, dataset: str | None = None,
                     control: TrainingControl | None = None) -> Scored | None:
    """Metrics of ckpt's model on the test set (None if stopped through `control`)."""
    from lstm_desktop.core.data.catalog import load_bundle
    from lstm_desktop.core.training.engine import predict
    from lstm_desktop.core.training.metrics import compute_metrics

    started = time.perf_counter()
    name = dataset or dataset_of(ckpt)
    seed = ckpt.config.seed if ckpt.config is not None else 0
    extra = {}
    if ckpt.config is not None:
        extra = dict(seq_len=ckpt.config.seq_len, permute=ckpt.config.permute)
    try:
        data = load_bundle(name, data_dir_for(ckpt, data_dir), val_size=0, seed=seed, **extra)
    except DataError as exc:  # the training hints (download, another dataset) do not fit here
        if name not in ("mnist", "pixel-mnist"):
            raise
        raise DataError(exc.message, "This model is scored on MNIST's test set: point to the folder that holds "
                                     "MNIST/raw/ (the window's Data folder, --data-dir, or LSTM_DESKTOP_DATA).") from exc
    spec = ckpt.spec
    if data.seq_len != spec.seq_len or data.input_size != spec.input_size:
        raise CheckpointError(f"This model reads sequences of {spec.seq_len}x{spec.input_size} but {name} has "
                              f"{data.seq_len}x{data.input_size}.",
                              "Evaluate it on the dataset it was trained on (--dataset).")
    probs = predict(ckpt.model, data.test_x, control=control)
    if len(probs) < len(data.test_x):
        return None
    predictions = probs.argmax(1).cpu().numpy()
    labels = data.test_y.cpu().numpy()
    metrics = compute_metrics(labels, predictions, data.num_classes)
    return Scored(metrics, data.name, data.test_x.cpu().numpy(), labels, predictions,
                  time.perf_counter() - started)
