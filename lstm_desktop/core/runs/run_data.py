"""Runs' curves and results as plain data: best-epoch figures, and CSV/JSON files for other tools.

Why: final-epoch accuracy hides a run that peaked earlier; the best validation accuracy and its
epoch answer "which settings learn best" without the noise of the last epoch. The bulk query reads
only two curves, so it stays cheap with thousands of runs (listing runs never reads curves).
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import IO, Any, Iterable

import numpy as np

from lstm_desktop.core.runs.evented_runs import Run

EPOCH_CURVES = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_second")
CSV_RUN_FIELDS = ("run_id", "name", "status", "dataset", "variant", "source", "created", "epochs_done",
                  "test_accuracy", "test_f1", "best_val_accuracy", "best_epoch")
CONFIG_FIELDS = ("cell", "hidden", "layers", "bidirectional", "attention", "dropout", "epochs", "batch_size", "lr",
                 "lr_schedule", "weight_decay", "grad_clip", "seed")


def best_epoch(history: dict[str, Any]) -> tuple[float, int] | None:
    """(best validation accuracy, its epoch number from 1), or None without a validation curve."""
    val = history.get("val_accuracy") or []
    if not len(val):
        return None
    values = np.asarray(val, dtype=np.float64)
    if np.isnan(values).all():
        return None
    i = int(np.nanargmax(values))  # the first of equal bests: the earliest epoch that reached it
    epochs = history.get("epoch") or []
    epoch = int(round(epochs[i])) if i < len(epochs) else i + 1
    return float(values[i]), epoch


def best_epochs(store, run_ids: Iterable[int] | None = None) -> dict[int, tuple[float, int]]:
    """best_epoch of many stored runs in one query (every run when run_ids is None).

    Plain arrays, not numpy: a run has a handful of epochs, and numpy's per-call cost would be
    most of the time with 10,000 runs."""
    if run_ids is not None:
        run_ids = list(run_ids)
        if not run_ids:
            return {}
    out = {}
    for run_id, curves in store.plain_curves(("val_accuracy", "epoch"), run_ids).items():
        values = curves.get("val_accuracy", ())
        val = [v for v in values if v == v]  # NaN != NaN
        if not val:
            continue
        best = max(val)
        i = next(k for k, v in enumerate(values) if v == best)  # the earliest epoch that reached it
        epochs = curves.get("epoch", ())
        out[run_id] = (best, int(round(epochs[i])) if i < len(epochs) else i + 1)
    return out


def run_record(run: Run, curves: dict[str, Any]) -> dict[str, Any]:
    """One run as a JSON-ready object: its fields, final and best results, per-epoch curves."""
    d = run.summary()
    best = best_epoch(curves)
    d["best_val_accuracy"], d["best_epoch"] = best if best else (None, None)
    d["curves"] = {k: list(curves[k]) for k in ("epoch", *EPOCH_CURVES, "batch_x", "batch_loss") if curves.get(k)}
    return d


def _csv_rows(records: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    curve_names = [k for k in EPOCH_CURVES if any(k in r["curves"] for r in records)]
    # the per-epoch learning rate must not share a column name with the lr setting
    header = [*CSV_RUN_FIELDS, *CONFIG_FIELDS, "epoch", *("lr_at_epoch" if k == "lr" else k for k in curve_names)]
    rows = []
    for r in records:
        metrics = r.get("metrics") or {}
        config = r.get("config") or {}
        base = [r["id"], r["name"], r["status"], r["dataset"], r["variant"], r["source"], r["created"],
                r["epochs_done"], r.get("accuracy"), metrics.get("f1"), r["best_val_accuracy"], r["best_epoch"],
                *(config.get(k) for k in CONFIG_FIELDS)]
        curves = r["curves"]
        epochs = curves.get("epoch") or list(range(1, 1 + max((len(curves.get(k, [])) for k in curve_names),
                                                               default=0)))
        if not epochs:
            rows.append([*base, None, *([None] * len(curve_names))])
        for i, epoch in enumerate(epochs):
            values = [curves[k][i] if k in curves and i < len(curves[k]) else None for k in curve_names]
            rows.append([*base, epoch, *values])
    return header, rows


def render(records: list[dict[str, Any]], fmt: str) -> str:
    """CSV (one row per run and epoch, run fields repeated) or JSON (a list of run objects)."""
    if fmt == "json":
        return json.dumps(records, indent=1) + "\n"
    header, rows = _csv_rows(records)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue()


def records_of(store, runs: Iterable[Run]) -> list[dict[str, Any]]:
    """run_record of each run, curves read from the store (or from the run when it holds them),
    many runs a query."""
    runs = list(runs)
    read: dict[int, dict[str, Any]] = {}
    missing = [run.id for run in runs if not run.history]
    if store is not None:
        for i in range(0, len(missing), 500):  # a few hundred runs' curves a query
            read.update(store.curves_of(missing[i:i + 500]))
    return [run_record(run, run.history if run.history else read.get(run.id, {})) for run in runs]


def write_run_data(store, runs: Iterable[Run], fmt: str, dest: str | os.PathLike[str] | IO[str]) -> Path | None:
    """Write the runs' data as `fmt` to a path (atomically) or an open text stream."""
    from lstm_desktop.core.files.atomic import atomic_write
    from lstm_desktop.core.errors import StoreError
    from lstm_desktop.core.files.oserrors import os_errors

    text = render(records_of(store, runs), fmt)
    if hasattr(dest, "write"):
        dest.write(text)  # type: ignore[union-attr]
        return None
    target = Path(dest).expanduser()
    with os_errors("write", target, StoreError, "Choose a folder you can write to."):
        with atomic_write(target) as fh:
            fh.write(text.encode("utf-8"))
    return target
