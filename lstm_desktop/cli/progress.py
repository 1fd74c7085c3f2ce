"""The command line's progress: a tqdm bar per epoch on stderr, one line per epoch on stdout.

Output is the least important thing a run does: when the reader goes away (`train | head -1`, a
closed terminal), a write fails with BrokenPipeError/OSError. GuardedStream swallows that, points
the dead file descriptor at /dev/null (so later prints of the summary cannot fail either) and the
run goes on to train and save its model.
"""

from __future__ import annotations

import sys
from typing import TextIO

from lstm_desktop.core.training.estimate import describe_epoch_time
from lstm_desktop.core.training.events import (BatchEnded, Callback, DataProgress, DownloadProgress, EpochEnded,
                                               FitFailed, FitStarted)
from lstm_desktop.core.files.oserrors import silence_stream


class GuardedStream:
    """A text stream whose failed writes switch it off instead of raising into the training loop."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self.stream.write(text)
            except (OSError, ValueError):  # BrokenPipeError is an OSError; ValueError: file closed
                self._break()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                self._break()

    def isatty(self) -> bool:
        try:
            return not self.broken and self.stream.isatty()
        except (OSError, ValueError):
            return False

    def _break(self) -> None:
        self.broken = True
        silence_stream(self.stream)

    def __getattr__(self, name: str):  # encoding, errors... for tqdm
        return getattr(self.stream, name)


class ProgressPrinter(Callback):
    """The CLI's observer of a training run. The bar is drawn only on a terminal (and not --quiet);
    the epoch lines always go to stdout, so logs and pipes keep them."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, bar: bool = True) -> None:
        # resolved now, not at import, so redirect_stdout / pytest's capsys see the epoch lines
        self.out, self.err = GuardedStream(out or sys.stdout), GuardedStream(err or sys.stderr)
        self.bar_enabled = bar
        self.stopping = False  # Ctrl-C was pressed: a validation cut short is that, not a diverged loss
        self._bar = None
        self._data_bar = None

    def _new_bar(self, total: int | None, desc: str, unit: str, **kwargs):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=self.err, leave=False, dynamic_ncols=True,
                    mininterval=0.1, **kwargs)

    def on_download_progress(self, event: DownloadProgress) -> None:
        self._data_progress(f"downloading {event.file}", event.done_bytes, event.total_bytes or None, "B",
                            unit_scale=True)

    def on_data_progress(self, event: DataProgress) -> None:
        self._data_progress(f"drawing {event.what}", event.done, event.total, "digit")

    def _data_progress(self, desc: str, done: int, total: int | None, unit: str, **kwargs) -> None:
        """The bar before training (a download, drawing pen digits): a new one when the task changes."""
        if not self.bar_enabled:
            return
        if self._data_bar is None or self._data_bar.desc != desc:
            self._close()
            self._data_bar = self._new_bar(total, desc, unit, **kwargs)
        self._data_bar.update(done - self._data_bar.n)

    def on_fit_start(self, event: FitStarted) -> None:
        self._close()
        self.out.write(f"training {event.train_size:,} samples ({event.val_size:,} held out for validation), "
                       f"{event.parameters:,} parameters, on {event.device}"
                       f"{f' ({event.step})' if event.step else ''}\n")
        if event.estimated_epoch_seconds > 0:
            line = describe_epoch_time(event.estimated_epoch_seconds, event.epochs)
            self.out.write(f"estimate (timed on a few batches): {line}\n")
        self.out.flush()

    def on_batch_end(self, event: BatchEnded) -> None:
        if not self.bar_enabled:
            return
        if self._bar is None:
            self._bar = self._new_bar(event.batches, f"epoch {event.epoch + 1}", "batch")
        self._bar.update(event.batch + 1 - self._bar.n)
        if self._bar.n % 10 == 0 or event.batch + 1 == event.batches:
            self._bar.set_postfix_str(f"loss {event.loss:.4f}, {event.samples_per_second:,.0f} samples/s",
                                      refresh=False)

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._close()
        self.out.write(f"epoch {event.epoch + 1}/{event.epochs}  train loss {event.train_loss:.4f} "
                       f"acc {event.train_accuracy * 100:.2f}%  {self._val_text(event)}  {event.seconds:.1f} s  "
                       f"{event.samples_per_second:,.0f} samples/s\n")
        self.out.flush()

    def _val_text(self, event: EpochEnded) -> str:
        if event.val_loss == event.val_loss:  # not nan
            return f"val loss {event.val_loss:.4f} acc {event.val_accuracy * 100:.2f}%"
        return "validation interrupted (Ctrl-C)" if self.stopping else "no validation set"

    def on_fit_failed(self, event: FitFailed) -> None:
        self._close()
        self.err.write(f"{event.message}\n  {event.hint}\n")

    def _close(self) -> None:
        for bar in (self._bar, self._data_bar):
            if bar is not None:
                bar.close()
        self._bar = self._data_bar = None
