"""Command line: the same core as the app, headless. `lstm-desktop` alone opens the window."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Sequence, TextIO

from lstm_desktop.core.errors import LstmDesktopError

DEFAULT_OUT = "lstm-model.pt"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (exit 2), without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _float_in(lo: float, hi: float, lo_open: bool = False):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (lo < value if lo_open else lo <= value) or not value < hi or value != value:
            raise argparse.ArgumentTypeError(f"must be in {'(' if lo_open else '['}{lo:g}, {hi:g}), got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lstm-desktop", description="Train, evaluate and try LSTM digit classifiers. "
                     "With no command, opens the desktop app.")
    from lstm_desktop import __version__
    parser.add_argument("--version", action="version", version=f"lstm-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    t = sub.add_parser("train", help="train a model (defaults reproduce the notebook)")
    t.add_argument("--dataset", choices=["mnist", "digits", "synthetic"], default="mnist")
    t.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $LSTM_DESKTOP_DATA "
                   "or ~/.pytorch/MNIST_data)")
    t.add_argument("--no-download", action="store_true", help="fail instead of downloading missing MNIST files")
    t.add_argument("--hidden", type=_positive_int, default=128)
    t.add_argument("--layers", type=_positive_int, default=1)
    t.add_argument("--bidirectional", action="store_true")
    t.add_argument("--attention", action="store_true")
    t.add_argument("--dropout", type=_float_in(0, 1), default=0.0)
    t.add_argument("--epochs", type=_positive_int, default=5)
    t.add_argument("--batch-size", type=_positive_int, default=64)
    t.add_argument("--lr", type=_float_in(0, 10, lo_open=True), default=1e-3)
    t.add_argument("--weight-decay", type=_float_in(0, 1), default=0.0)
    t.add_argument("--lr-schedule", choices=["none", "onecycle", "cosine"], default="none")
    t.add_argument("--grad-clip", type=_float_in(0, 1e6), default=0.0, help="max gradient norm (0: off)")
    t.add_argument("--augment", action="store_true", help="random rotation, scale, shift and stroke width")
    t.add_argument("--val-size", type=int, default=5000, help="training images held out for validation")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    t.add_argument("--threads", type=_positive_int, default=None, help="CPU threads (default: torch's)")
    t.add_argument("--out", default=DEFAULT_OUT, help=f"checkpoint file (default: {DEFAULT_OUT})")
    t.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="score a checkpoint on its dataset's test set")
    e.add_argument("checkpoint")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--dataset", choices=["mnist", "digits", "synthetic"], default=None,
                   help="default: the dataset the model was trained on")
    e.add_argument("--json", action="store_true")

    sub.add_parser("devices", help="list the compute devices on this machine")

    c = sub.add_parser("classify", help="classify digit images (PNG, JPEG, ...)")
    c.add_argument("images", nargs="+", metavar="IMAGE")
    c.add_argument("--model", default=None, help="checkpoint (default: the model shipped with the app)")
    c.add_argument("--json", action="store_true", help="one JSON object per image per line")

    sub.add_parser("gui", help="open the desktop app")
    return parser


class ProgressPrinter:
    """The CLI's progress bar (stderr, redrawn at most 10x a second) and one stdout line per epoch."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, bar: bool = True) -> None:
        # resolved now, not at import, so redirect_stdout / pytest's capsys see the epoch lines
        self.out, self.err, self.bar = out or sys.stdout, err or sys.stderr, bar
        self._last = 0.0
        self._drawn = False

    def __call__(self, event) -> None:
        from lstm_desktop.core import events as ev

        if isinstance(event, ev.DownloadProgress):
            if self.bar and time.monotonic() - self._last > 0.1:
                self._last = time.monotonic()
                total = f"/{event.total_bytes / 1e6:.1f}" if event.total_bytes else ""
                self.err.write(f"\rdownloading {event.file}: {event.done_bytes / 1e6:.1f}{total} MB")
                self.err.flush()
                self._drawn = True
        elif isinstance(event, ev.FitStarted):
            self._clear()
            self.out.write(f"training {event.train_size:,} images ({event.val_size:,} held out for validation), "
                           f"{event.parameters:,} parameters, on {event.device}\n")
            self.out.flush()
        elif isinstance(event, ev.BatchEnded):
            now = time.monotonic()
            if self.bar and (now - self._last > 0.1 or event.batch + 1 == event.batches):
                self._last = now
                done = (event.batch + 1) / event.batches
                fill = int(done * 30)
                self.err.write(f"\repoch {event.epoch + 1} [{'#' * fill}{'.' * (30 - fill)}] "
                               f"{event.batch + 1}/{event.batches} loss {event.loss:.4f} "
                               f"{event.samples_per_second:,.0f} samples/s ")
                self.err.flush()
                self._drawn = True
        elif isinstance(event, ev.EpochEnded):
            self._clear()
            self.out.write(f"epoch {event.epoch + 1}/{event.epochs}  train loss {event.train_loss:.4f} "
                           f"acc {event.train_accuracy * 100:.2f}%  val loss {event.val_loss:.4f} "
                           f"acc {event.val_accuracy * 100:.2f}%  {event.seconds:.1f} s  "
                           f"{event.samples_per_second:,.0f} samples/s\n")
            self.out.flush()
        elif isinstance(event, ev.FitFailed):
            self._clear()
            self.err.write(f"{event.message}\n{event.hint}\n")

    def _clear(self) -> None:
        if self._drawn:
            self.err.write("\r" + " " * 100 + "\r")
            self.err.flush()
            self._drawn = False


def _config_from_args(args: argparse.Namespace):
    from lstm_desktop.core.config import TrainConfig

    return TrainConfig(dataset=args.dataset, data_dir=args.data_dir, hidden=args.hidden, layers=args.layers,
                       bidirectional=args.bidirectional, attention=args.attention, dropout=args.dropout,
                       epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       weight_decay=args.weight_decay, seed=args.seed, device=args.device,
                       val_size=args.val_size, augment=args.augment, lr_schedule=args.lr_schedule,
                       grad_clip=args.grad_clip, threads=args.threads)


def print_outcome(outcome, as_json: bool, **extra) -> None:
    """The end of `train`: the report table, where the model went, and the JSON summary line."""
    if outcome.metrics is not None:
        print()
        print(outcome.metrics.report())
    if outcome.saved_to:
        where = f", {extra['world_size']} processes" if extra.get("world_size") else ""
        print(f"saved {outcome.saved_to}  ({outcome.fit.epochs_completed} epochs, {outcome.fit.seconds:.1f} s, "
              f"{outcome.fit.train_samples_per_second:,.0f} training samples/s{where})")
    elif outcome.fit.epochs_completed == 0:
        print("no epoch finished; nothing was saved")
    if as_json:
        print(json.dumps({**outcome.summary(), **extra}))
    sys.stdout.flush()


def cmd_train(args: argparse.Namespace) -> int:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from lstm_desktop.core.distributed import train_distributed

        return train_distributed(args, _config_from_args(args))
    from lstm_desktop.core.control import TrainingControl
    from lstm_desktop.core.devices import resolve_device
    from lstm_desktop.core.session import run_training

    config = _config_from_args(args)
    resolve_device(config.device)  # fail before loading data
    control = TrainingControl()

    def on_sigint(signum, frame):  # first Ctrl-C: finish cleanly; second: give up at once
        sys.stderr.write("\nstopping: keeping the last finished epoch (Ctrl-C again to quit now)\n")
        control.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        printer = ProgressPrinter(bar=not args.quiet and sys.stderr.isatty())
        outcome = run_training(config, [printer], control, out=args.out, download=not args.no_download)
    finally:
        signal.signal(signal.SIGINT, previous)
    print_outcome(outcome, args.json)
    if outcome.fit.failure is not None:
        return 1
    return 130 if outcome.fit.stopped else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lstm_desktop.core.checkpoint import load_checkpoint
    from lstm_desktop.core.data import load_bundle
    from lstm_desktop.core.engine import evaluate

    start = time.perf_counter()
    ckpt = load_checkpoint(args.checkpoint)
    dataset = args.dataset or (ckpt.config.dataset if ckpt.config else "mnist")
    data_dir = args.data_dir or (ckpt.config.data_dir if ckpt.config else None)
    data = load_bundle(dataset, data_dir, val_size=0, seed=ckpt.config.seed if ckpt.config else 0)
    if data.seq_len != ckpt.spec.seq_len or data.input_size != ckpt.spec.input_size:
        from lstm_desktop.core.errors import CheckpointError

        raise CheckpointError(f"This model reads {ckpt.spec.seq_len}x{ckpt.spec.input_size} images but "
                              f"{dataset} has {data.seq_len}x{data.input_size}.",
                              "Evaluate it on the dataset it was trained on (--dataset).")
    metrics = evaluate(ckpt.model, data.test_x, data.test_y, data.num_classes)
    print(metrics.report())
    if args.json:
        summary = {"accuracy": metrics.accuracy, "precision": metrics.precision, "recall": metrics.recall,
                   "f1": metrics.f1, "epochs": ckpt.info.get("epochs"),
                   "seconds": round(time.perf_counter() - start, 3),
                   "train_samples_per_second": ckpt.info.get("train_samples_per_second"),
                   "dataset": dataset, "checkpoint": str(ckpt.path)}
        print(json.dumps(summary))
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from lstm_desktop.core.devices import available_devices

    for d in available_devices():
        print(f"{d.id:10} {d.label}")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from lstm_desktop.core.classify import classify_command

    return classify_command(args.images, args.model, args.json)


def gui_main(argv: Sequence[str] | None = None) -> int:
    from lstm_desktop.ui.app import run_app

    return run_app(list(argv) if argv is not None else sys.argv[1:])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return gui_main([])
    args = build_parser().parse_args(argv)
    commands = {"train": cmd_train, "evaluate": cmd_evaluate, "devices": cmd_devices,
                "classify": cmd_classify}
    if args.command == "gui" or args.command is None:
        return gui_main([])
    try:
        return commands[args.command](args)
    except LstmDesktopError as exc:
        sys.stderr.write(f"lstm-desktop {args.command}: error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"  {exc.hint}\n")
        return 2 if exc.__class__.__name__ in ("ConfigError", "DeviceError") else 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
