"""`lstm-desktop evaluate MODEL`: score a saved model (file or run id) on its dataset's test set."""

from __future__ import annotations

import argparse
import json
import time

from lstm_desktop.core.training.config import DATASETS, TrainConfig


def register(sub) -> None:
    e = sub.add_parser("evaluate", help="score a checkpoint on its dataset's test set")
    e.add_argument("checkpoint", help="checkpoint file or run id")
    e.add_argument("--data-dir", default=None, help="folder that holds MNIST/raw/ (default: $LSTM_DESKTOP_DATA, "
                   "else the model's own folder when absolute, else ~/.pytorch/MNIST_data)")
    e.add_argument("--dataset", choices=DATASETS, default=None, help="default: the dataset the model was trained on")
    e.add_argument("--json", action="store_true")
    e.set_defaults(run=run)


def check_dataset_fits(ckpt, dataset: str) -> None:
    """--dataset must feed this model what it reads (steps x features, classes): checked before any
    data is loaded, so a temporal-order model on pixel-mnist is a message, not a failed reshape."""
    from lstm_desktop.core.errors import CheckpointError
    from lstm_desktop.core.training.evaluate import dataset_of
    from lstm_desktop.core.data.shapes import input_shape

    trained = dataset_of(ckpt)
    if dataset == trained:
        return
    spec = ckpt.spec
    config = ckpt.config if ckpt.config is not None else TrainConfig()
    steps, features, classes = input_shape(TrainConfig.for_dataset(dataset, seq_len=config.seq_len))
    if (steps, features, classes) != (spec.seq_len, spec.input_size, spec.num_classes):
        raise CheckpointError(f"This {trained} model reads {spec.seq_len}x{spec.input_size} sequences into "
                              f"{spec.num_classes} classes, but {dataset} has {steps}x{features} into {classes}.",
                              f"Evaluate it on the dataset it was trained on: --dataset {trained} (or no --dataset).")


def run(args: argparse.Namespace) -> int:
    from lstm_desktop.core.models.checkpoint import load_checkpoint
    from lstm_desktop.core.training.evaluate import score_checkpoint
    from lstm_desktop.core.runs.runref import resolve_model

    start = time.perf_counter()
    ckpt = load_checkpoint(resolve_model(args.checkpoint))
    if args.dataset:
        check_dataset_fits(ckpt, args.dataset)
    scored = score_checkpoint(ckpt, data_dir=args.data_dir, dataset=args.dataset)
    metrics = scored.metrics
    print(metrics.report())
    if args.json:
        summary = {"accuracy": metrics.accuracy, "precision": metrics.precision, "recall": metrics.recall,
                   "f1": metrics.f1, "epochs": ckpt.info.get("epochs"),
                   "seconds": round(time.perf_counter() - start, 3),
                   "train_samples_per_second": ckpt.info.get("train_samples_per_second"),
                   "dataset": scored.dataset, "checkpoint": str(ckpt.path)}
        print(json.dumps(summary))
    return 0
