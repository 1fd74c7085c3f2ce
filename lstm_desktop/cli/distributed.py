"""`lstm-desktop train` under torchrun: the core trains this rank's share; this module prints rank 0's
progress and result, and ends the process (at once, when a rank failed: that breaks its peers'
pending collectives instead of leaving them hanging)."""

from __future__ import annotations

import argparse
import os
import sys

from lstm_desktop.core.training.config import TrainConfig


def run_distributed(args: argparse.Namespace, config: TrainConfig) -> int:
    from lstm_desktop.cli.progress import ProgressPrinter
    from lstm_desktop.cli.outcome import _recording, print_outcome
    from lstm_desktop.core.training.distributed import train_distributed

    rank = int(os.environ.get("RANK", "0"))
    recording = _recording(config, "torchrun") if rank == 0 else None
    printer = ProgressPrinter(bar=not args.quiet and sys.stderr.isatty())
    callbacks = [printer, *(recording.callbacks if recording else [])]
    result = train_distributed(config, callbacks, out=args.out, download=not args.no_download,
                               on_banner=lambda line: print(line, flush=True),
                               run_dir=recording.run_dir if recording else None)
    if recording is not None:
        if result.outcome is None and result.message:  # refused or broken before training reported its end
            recording.fail(result.message, result.hint)
        recording.close()
    if result.message and result.say:
        sys.stderr.write(f"lstm-desktop train: {'error: ' if result.code == 2 else ''}{result.message}\n")
        if result.hint:
            sys.stderr.write(f"  {result.hint}\n")
    if result.outcome is not None and result.rank == 0:
        extra = {"world_size": result.world}
        if recording is not None:
            extra["run_id"] = recording.run_id
        print_outcome(result.outcome, args.json, **extra)
    sys.stdout.flush()
    sys.stderr.flush()
    if result.abort:
        os._exit(result.code)
    return result.code
