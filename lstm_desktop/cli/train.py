"""`lstm-desktop train`: every flag comes from the settings' declarations (core/training/config.py)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from lstm_desktop.cli.common import argument_type
from lstm_desktop.cli.outcome import _recording, print_outcome
from lstm_desktop.core.training.config import EXPOSED, TrainConfig

DEFAULT_OUT = "lstm-model.pt"


def _help(s) -> str:
    parts = [s.help.replace("%", "%%")]
    rng = s.range_text()
    if rng and not s.choices:
        parts.append(f"range {rng}")
    default = s.none_text or "none" if s.default is None else s.format(s.default) if s.kind is not bool else \
        ("on" if s.default else "off")
    others = ", ".join(f"{d}: {s.format(v)}" for d, v in s.per_dataset.items() if v != s.default)
    if "default:" not in s.help:
        parts.append(f"default: {default}" + (f"; {others}" if others else ""))
    if s.applies_to:
        parts.append(f"for {', '.join(s.applies_to)}")
    return "; ".join(parts)


def register(sub) -> None:
    t = sub.add_parser("train", help="train a model (defaults reproduce the notebook)",
                       description="Train a model. Every setting has the same name, range and default as in "
                                   "the window; some defaults depend on the dataset.")
    for s in EXPOSED:
        if s.kind is bool:
            group = t.add_mutually_exclusive_group()
            group.add_argument(s.flag, dest=s.name, action="store_true", default=None, help=_help(s))
            group.add_argument(f"--no-{s.flag[2:]}", dest=s.name, action="store_false", default=None,
                               help=argparse.SUPPRESS)
        else:
            metavar = "{" + ",".join(v for v, _ in s.choices) + "}" if s.choices else s.name.upper()
            t.add_argument(s.flag, dest=s.name, type=argument_type(s), default=None, metavar=metavar,
                           help=_help(s))
    t.add_argument("--no-download", action="store_true", help="fail instead of downloading missing MNIST files")
    t.add_argument("--out", default=None, help=f"checkpoint file written at the end; a finished run replaces "
                   f"it (default: {DEFAULT_OUT}, or {DEFAULT_OUT[:-3]}-2.pt and on when that exists: a model "
                   "you did not name is never replaced); every run is also kept in the run store "
                   "(lstm-desktop runs list)")
    t.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The dataset's defaults, then every setting given on the command line."""
    given = {s.name: getattr(args, s.name) for s in EXPOSED if getattr(args, s.name, None) is not None}
    return TrainConfig.for_dataset(given.pop("dataset", "mnist"), **given)


def default_out(folder: Path | None = None) -> str:
    """lstm-model.pt, or the first free lstm-model-N.pt: the default never replaces an earlier run's model
    (a 51% digits model once silently replaced a 98% MNIST one); an explicit --out is the user's choice."""
    folder = folder or Path.cwd()
    stem, suffix = DEFAULT_OUT.rsplit(".", 1)
    name, n = DEFAULT_OUT, 1
    while (folder / name).exists() or (folder / name).is_symlink():
        n += 1
        name = f"{stem}-{n}.{suffix}"
    if name != DEFAULT_OUT and int(os.environ.get("RANK", "0")) == 0:
        sys.stderr.write(f"lstm-desktop train: {DEFAULT_OUT} already holds an earlier model; this run's goes to "
                         f"{name} (name the file with --out to choose).\n")
    return name


def run(args: argparse.Namespace) -> int:
    """Check --out (and hold it) before anything trains; release it however the run ends."""
    from lstm_desktop.core.files.outfile import check_out_target

    config = config_from_args(args)
    if args.out is None:
        args.out = default_out()
    target = check_out_target(args.out, lock=int(os.environ.get("RANK", "0")) == 0)
    try:
        return _run(args, config)
    finally:
        target.release()


def _run(args: argparse.Namespace, config: TrainConfig) -> int:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from lstm_desktop.cli.distributed import run_distributed

        return run_distributed(args, config)
    from lstm_desktop.cli.progress import ProgressPrinter
    from lstm_desktop.core.training.control import TrainingControl
    from lstm_desktop.core.training.devices import resolve_device
    from lstm_desktop.core.training.session import run_training

    resolve_device(config.device)  # fail before loading data
    control = TrainingControl()

    def on_sigint(signum, frame):  # first Ctrl-C: finish cleanly; second: give up at once
        sys.stderr.write("\nstopping: keeping the last finished epoch (Ctrl-C again to quit now)\n")
        control.stop()
        printer.stopping = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    printer = ProgressPrinter(bar=not args.quiet and sys.stderr.isatty())
    recording = _recording(config, "cli")
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        callbacks = [printer, *(recording.callbacks if recording else [])]
        outcome = run_training(config, callbacks, control, out=args.out, download=not args.no_download,
                               run_dir=recording.run_dir if recording else None)
    finally:
        signal.signal(signal.SIGINT, previous)
        if recording is not None:
            recording.close()
    extra = {"run_id": recording.run_id} if recording is not None else {}
    print_outcome(outcome, args.json, **extra)
    if outcome.saved_to is None and outcome.fit.epochs_completed:
        from lstm_desktop.core.files.outfile import kept_message

        sys.stderr.write(f"lstm-desktop train: {kept_message(args.out, outcome)}\n")
    if outcome.fit.failure is not None:
        return 1
    return 130 if outcome.fit.stopped else 0
