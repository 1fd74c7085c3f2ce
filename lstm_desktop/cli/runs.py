"""`lstm-desktop runs list|show|rm|restore|export|export-data`: the run store from the command line.

Every run trained anywhere (window, `train`, torchrun) is listed; `--json` prints one object per
run per line, for scripts. `rm` moves a run to the trash (the window's Trash restores it); `--purge`
deletes it and its files for good.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from lstm_desktop.core.errors import StoreError

STATUSES = ("queued", "running", "paused", "finished", "stopped", "failed", "interrupted", "damaged")


def register(sub) -> None:
    r = sub.add_parser("runs", help="list, show, delete or export stored runs",
                       description="Every run trained in the window, with `lstm-desktop train` or torchrun is kept "
                                   "in the run store ($LSTM_DESKTOP_HOME, else the user data folder).")
    r.set_defaults(run=lambda args: (r.print_help(), 0)[1])
    cmds = r.add_subparsers(dest="runs_command", metavar="ACTION", parser_class=type(r))
    ls = cmds.add_parser("list", help="the stored runs, oldest first")
    ls.add_argument("--json", action="store_true", help="one JSON object per run per line")
    ls.add_argument("--dataset", default=None, help="only runs on this dataset")
    ls.add_argument("--status", choices=STATUSES, default=None, help="only runs with this status")
    ls.add_argument("--search", default=None, metavar="TEXT", help="only runs whose name, notes, tags or model "
                    "contain TEXT")
    ls.add_argument("--trash", action="store_true", help="list the runs in the trash instead")
    ls.set_defaults(run=list_runs)
    show = cmds.add_parser("show", help="one run: settings, status, metrics, files")
    show.add_argument("id", help="run id (or its unique name)")
    show.add_argument("--json", action="store_true", help="everything as one JSON object, curves included")
    show.set_defaults(run=show_run)
    rm = cmds.add_parser("rm", help="move a run to the trash (--purge: delete it and its files)")
    rm.add_argument("id", nargs="+", help="run id(s)")
    rm.add_argument("--purge", action="store_true", help="delete for good, with the run's model files")
    rm.set_defaults(run=remove_runs)
    restore = cmds.add_parser("restore", help="bring runs back from the trash")
    restore.add_argument("id", nargs="+", help="run id(s)")
    restore.set_defaults(run=restore_runs)
    export = cmds.add_parser("export", help="copy a run's model file out of the store, or export it as ONNX")
    export.add_argument("id", help="run id (or its unique name)")
    export.add_argument("--out", required=True, metavar="FILE", help="where to write the model (.pt or .onnx)")
    export.add_argument("--best", action="store_true", help="the best validation epoch's model instead of the last")
    export.set_defaults(run=export_run)
    from lstm_desktop.cli import runs_export

    runs_export.add_export_options(export)
    runs_export.register_export_data(cmds, _store)


def _store():
    from lstm_desktop.core.runs.store import open_store

    store = open_store()
    if store.notice:
        sys.stderr.write(f"lstm-desktop runs: {store.notice}\n")
    return store


def list_line(run, store) -> dict:
    """The JSON object `runs list --json` prints for one run."""
    d = run.summary()
    d.pop("metrics", None)
    for key in ("checkpoint_path", "best_path"):
        where = store.absolute(d.pop(key))
        d["checkpoint" if key == "checkpoint_path" else "best_checkpoint"] = str(where) if where else None
    return d


def list_runs(args: argparse.Namespace) -> int:
    store = _store()
    runs = store.list_runs(dataset=args.dataset, status=args.status, text=args.search, trash=args.trash)
    out = sys.stdout
    if args.json:
        for run in runs:
            out.write(json.dumps(list_line(run, store)) + "\n")
        return 0
    if not runs:
        filters = " ".join(f"--{k} {v}" for k, v in (("dataset", args.dataset), ("status", args.status),
                                                      ("search", args.search)) if v)
        stored = len(store.list_runs(trash=args.trash)) if filters else 0
        if stored:
            out.write(f"no runs match {filters} ({stored} runs {'in the trash' if args.trash else 'stored'}; "
                      f"`lstm-desktop runs list{' --trash' if args.trash else ''}` lists them all)\n")
        else:
            out.write("no runs in the trash\n" if args.trash else
                      f"no runs stored yet (in {store.home}); `lstm-desktop train` records one\n")
        return 0
    out.write(f"{'id':>4}  {'name':<16} {'status':<11} {'dataset':<14} {'model':<22} {'epochs':>7} "
              f"{'accuracy':>8}  created\n")
    for r in runs:
        acc = f"{r.accuracy * 100:.2f}%" if r.accuracy is not None else "–"
        epochs = f"{r.epochs_done}/{r.epochs_total}" if r.epochs_total else str(r.epochs_done)
        out.write(f"{r.id:>4}  {r.name[:16]:<16} {r.status.value:<11} {r.dataset[:14]:<14} {r.variant[:22]:<22} "
                  f"{epochs:>7} {acc:>8}  {r.created[:16].replace('T', ' ')}\n")
    return 0


def show_run(args: argparse.Namespace) -> int:
    store = _store()
    run = store.find(args.id)
    if args.json:
        d = list_line(run, store)
        d["metrics"] = run.metrics.to_dict() if run.metrics is not None else None
        d["info"] = store.info(run.id)
        d["curves"] = store.get_curves(run.id)
        print(json.dumps(d))
        return 0
    where = store.absolute(run.checkpoint_path)
    lines = [f"{run.name} (run {run.id}) — {run.variant or '?'} on {run.dataset or '?'}: {run.status.value}"]
    if run.message:
        lines.append(f"  {run.message}")
    lines.append(f"  from {run.source}, created {run.created}" + (f", ended {run.ended}" if run.ended else ""))
    epochs = f"{run.epochs_done}/{run.epochs_total}" if run.epochs_total else str(run.epochs_done)
    secs = f", {run.seconds:.1f} s" if run.seconds is not None else ""
    lines.append(f"  epochs {epochs}{secs} on {run.device or '?'} (torch {run.torch_version or '?'}, "
                 f"{run.host or '?'}: {run.machine or '?'})")
    lines.append(f"  model: {where if where else 'none (no epoch finished)'}")
    step = store.info(run.id).get("step")
    if step:
        lines.append(f"  trained by: {step}")
    if run.tags:
        lines.append(f"  tags: {', '.join(run.tags)}")
    if run.notes:
        lines.append(f"  notes: {run.notes}")
    if run.config is not None:
        c = run.config
        lines.append(f"  settings: epochs {c.epochs}, batch {c.batch_size}, lr {c.lr:g} ({c.lr_schedule}), "
                     f"seed {c.seed}, dropout {c.dropout:g}, device {c.device}")
    print("\n".join(lines))
    if run.metrics is not None:
        print()
        print(run.metrics.report())
    return 0


def remove_runs(args: argparse.Namespace) -> int:
    store = _store()
    runs = [store.find(ref) for ref in args.id]  # every id must exist before anything is removed
    for run in runs:
        if args.purge:
            store.purge(run.id)
            print(f"deleted {run.name} (run {run.id}) and its files")
        else:
            store.delete(run.id)
            print(f"moved {run.name} (run {run.id}) to the trash (lstm-desktop runs restore {run.id} undoes it)")
    _flush(store)
    return 0


def restore_runs(args: argparse.Namespace) -> int:
    store = _store()
    for ref in args.id:
        run = store.find(ref)
        store.restore(run.id)
        print(f"restored {run.name} (run {run.id})")
    _flush(store)
    return 0


def _flush(store) -> None:
    """Edits queued behind another process's lock on the store land before the command exits."""
    if not store.flush_edits():
        raise StoreError("The run store stayed locked by another process; the change was not saved.",
                         "Close other lstm-desktop windows or trainings, then try again.")


def export_run(args: argparse.Namespace) -> int:
    from lstm_desktop.core.files.atomic import atomic_write
    from lstm_desktop.core.models.checkpoint import load_checkpoint
    from lstm_desktop.core.errors import CheckpointError
    from lstm_desktop.core.files.outfile import check_out_target

    from lstm_desktop.cli import runs_export

    check_out_target(args.out, lock=False)  # the shipped model, the run store, devices: refused first
    store = _store()
    run = store.find(args.id)
    if runs_export.wants_onnx(args):
        return runs_export.export_onnx_run(args, store, run)
    src = store.absolute(run.best_path if args.best else run.checkpoint_path)
    if src is None or not src.is_file():
        raise CheckpointError(f"{run.name} (run {run.id}) has no model file to export"
                              f"{'' if src is None else f' ({src} is missing)'}.",
                              "Only runs with a finished epoch have one (lstm-desktop runs list).")
    try:  # loaded weights-only and checked (digest, shapes), so a damaged file is never handed on
        load_checkpoint(src)
    except CheckpointError as exc:
        raise CheckpointError(f"{run.name} (run {run.id}) was not exported: {exc.message}", exc.hint) from exc
    try:
        with open(src, "rb") as fin, atomic_write(args.out) as fout:
            shutil.copyfileobj(fin, fout)
    except OSError as exc:
        raise StoreError(f"Cannot write {args.out}: {exc.strerror}.", "Choose a folder you can write to.") from exc
    print(f"exported {run.name} (run {run.id}) to {args.out}")
    return 0
