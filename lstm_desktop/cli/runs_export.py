"""`runs export ID --format onnx` and `runs export-data [IDS] --format csv|json`: a run's model and data
out of the store, for use anywhere else. Kept apart from cli/runs.py so each piece stays small."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

EXPORT_FORMATS = ("pt", "onnx")
DATA_FORMATS = ("csv", "json")


def add_export_options(export: argparse.ArgumentParser) -> None:
    """The ONNX options of `runs export` (the .pt copy is cli/runs.py's export_run)."""
    export.add_argument("--format", choices=EXPORT_FORMATS, default=None,
                        help="pt: the checkpoint as stored; onnx: an ONNX model (dynamic batch, preprocessing in its "
                             "metadata), checked against PyTorch with onnxruntime first. Default: from --out's "
                             "extension (.onnx: onnx), else pt")
    export.add_argument("--data-dir", default=None, metavar="DIR",
                        help="onnx: where the test set used for the check is (default: as `evaluate`)")


def wants_onnx(args: argparse.Namespace) -> bool:
    fmt = getattr(args, "format", None)
    return fmt == "onnx" or (fmt is None and str(args.out).lower().endswith(".onnx"))


def export_onnx_run(args: argparse.Namespace, store, run) -> int:
    """Export the run's model as ONNX, checked with onnxruntime before "exported" is printed."""
    from lstm_desktop.core.models.checkpoint import load_checkpoint
    from lstm_desktop.core.errors import CheckpointError
    from lstm_desktop.core.training.evaluate import dataset_of
    from lstm_desktop.core.models.onnx_export import export_onnx, require_extras

    require_extras()  # before reading anything: the one-line install hint comes first
    src = store.absolute(run.best_path if args.best else run.checkpoint_path)
    if src is None or not src.is_file():
        raise CheckpointError(f"{run.name} (run {run.id}) has no model file to export"
                              f"{'' if src is None else f' ({src} is missing)'}.",
                              "Only runs with a finished epoch have one (lstm-desktop runs list).")
    ckpt = load_checkpoint(src)
    dataset = run.dataset or dataset_of(ckpt)
    done = export_onnx(ckpt, args.out, dataset, data_dir=args.data_dir,
                       run={"id": run.id, "name": run.name, "variant": run.variant, "best_epoch": bool(args.best)})
    print(done.message(f"{run.name} (run {run.id})"))
    return 0


def register_export_data(cmds, open_store: Callable[[], Any]) -> None:
    p = cmds.add_parser("export-data", help="write runs' curves and metrics as CSV or JSON",
                        description="Every run (or the given ones): its settings, final and best-epoch results and "
                                    "per-epoch curves. CSV: one row per run and epoch; JSON: one object per run.")
    p.add_argument("id", nargs="*", help="run ids or names (default: every run not in the trash)")
    p.add_argument("--format", choices=DATA_FORMATS, default=None, help="default: from --out's extension, else csv")
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write ('-': standard output)")
    p.set_defaults(run=lambda args: export_data(args, open_store()))


def export_data(args: argparse.Namespace, store) -> int:
    from lstm_desktop.core.runs.run_data import write_run_data

    runs = [store.find(ref) for ref in args.id] if args.id else store.list_runs()
    fmt = args.format or ("json" if str(args.out).lower().endswith(".json") else "csv")
    if args.out == "-":
        write_run_data(store, runs, fmt, sys.stdout)
        return 0
    path = write_run_data(store, runs, fmt, Path(args.out))
    print(f"wrote {len(runs):,} run{'s' if len(runs) != 1 else ''} to {path} ({fmt.upper()})")
    return 0
