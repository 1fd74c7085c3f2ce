"""Every training run into the run store: `open_recording` (CLI, torchrun rank 0, the window) and
the RunRecorder callback that writes each event.

Writes are few and transactional: config and status at the start; device and sizes at fit start;
each epoch's batch losses (buffered), epoch curves and gradient flows in one transaction at the
epoch's end; the checkpoint and epochs done when the model file is on disk; metrics; the end. A
process killed between two writes leaves a consistent run that the next open marks interrupted.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import socket
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from lstm_desktop.core.training import events as ev
from lstm_desktop.core.runs.run_lock import RunLock
from lstm_desktop.core.runs.evented_runs import FIELD_NAMES, Run, Runs, RunStatus
from lstm_desktop.core.runs.store import RunStore, now_iso, open_store
from lstm_desktop.core.runs.store_writer import StoreWriter, is_busy, reserve_run

log = logging.getLogger(__name__)

EPOCH_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_second")
END_STATUS = {"finished": RunStatus.FINISHED, "stopped": RunStatus.STOPPED, "failed": RunStatus.FAILED,
              "interrupted": RunStatus.INTERRUPTED}


def machine_fields() -> dict[str, str]:
    """Where the run trained: host name, OS and CPU architecture, torch version."""
    torch_version = ""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch_version = str(getattr(torch, "__version__", ""))
    return {"host": socket.gethostname(), "torch_version": torch_version,
            "machine": f"{platform.system()} {platform.release()} {platform.machine()}, "
                       f"{os.cpu_count() or '?'} CPUs, Python {platform.python_version()}"}


class RunRecorder(ev.Callback):
    """Writes one run's events to the store. With `runs` (an in-memory Runs model), also updates the
    Run there through `runs.update`, on the thread that delivers the events: the one thing that
    turns a run's events into a Run. Its final status is written by `on_run_end` alone."""

    def __init__(self, store: RunStore, run_id: int, runs: Runs | None = None,
                 writer: StoreWriter | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.runs = runs
        self.writer = writer or StoreWriter(store)  # a locked store queues, never stalls or fails the run
        self._batch_x: list[float] = []
        self._batch_loss: list[float] = []
        self._flows: list[tuple[float, list[float]]] = []
        self._wall_start = time.perf_counter()
        self.ended = False

    # the in-memory model, when there is one
    def _mirror(self, chunk: dict[str, list] | None = None, **fields: Any) -> None:
        run = self.runs.get(self.run_id) if self.runs is not None else None
        if run is None:
            return
        fields = {k: v for k, v in fields.items() if k in FIELD_NAMES}  # store-only columns (info) stay out
        if fields:
            self.runs.update(run, **fields)
        if chunk:
            for key, values in chunk.items():
                target = run.probe if key == "probe" else run.gradient_flow if key == "gradient_flow" else \
                    run.history.setdefault(key, [])
                target.extend(values)
            self.runs.touch(run, "history", *(k for k in ("probe", "gradient_flow") if k in chunk))

    def _write(self, chunk: dict[str, list] | None = None, **fields: Any) -> None:
        if chunk:
            self.writer.write(self.store.append_curves, self.run_id, chunk, **fields)
        elif fields:
            self.writer.write(self.store.update, self.run_id, **fields)
        self._mirror(chunk, **fields)

    # ---- hooks ---------------------------------------------------------------------------------
    def on_run_start(self, event: ev.RunStarted) -> None:
        self._wall_start = time.perf_counter()
        config = event.config
        self._write(status=RunStatus.RUNNING, started=now_iso(), config=config, dataset=config.dataset,
                    variant=config.variant_name, epochs_total=config.epochs)

    def on_fit_start(self, event: ev.FitStarted) -> None:
        info = {"pid": os.getpid(), **self.store.info(self.run_id), "train_size": event.train_size,
                "val_size": event.val_size, "batches_per_epoch": event.batches_per_epoch,
                "step": event.step}  # which training step ran the batches, and how it was chosen
        world = os.environ.get("WORLD_SIZE")
        if world and world.isdigit() and int(world) > 1:
            info["world_size"] = int(world)
        self._write(device=event.device, parameters=event.parameters, epochs_total=event.epochs, info=info)

    def on_batch_end(self, event: ev.BatchEnded) -> None:
        self._batch_x.append(event.progress)
        self._batch_loss.append(event.loss)

    def on_gradient_flow(self, event: ev.GradientFlowMeasured) -> None:
        self._flows.append((float(event.progress), [float(n) for n in event.norms]))

    def _take_buffers(self) -> dict[str, list]:
        chunk = {"batch_x": self._batch_x, "batch_loss": self._batch_loss, "gradient_flow": self._flows}
        self._batch_x, self._batch_loss, self._flows = [], [], []
        return {k: v for k, v in chunk.items() if v}

    def on_epoch_end(self, event: ev.EpochEnded) -> None:
        chunk = self._take_buffers()
        chunk["epoch"] = [float(event.epoch + 1)]
        for key in EPOCH_KEYS:
            chunk[key] = [float(getattr(event, key))]
        self._write(chunk, samples_per_second=float(event.samples_per_second),
                    seconds=time.perf_counter() - self._wall_start)

    def on_probe_scored(self, event: ev.ProbeScored) -> None:
        self._write({"probe": [(float(event.epoch + 1), [float(p) for p in event.probabilities])]})

    def on_checkpoint_saved(self, event: ev.CheckpointSaved) -> None:
        fields: dict[str, Any] = {"checkpoint_path": event.path, "epochs_done": int(event.epoch)}
        if event.best_path:
            fields["best_path"] = event.best_path
        self._write(**fields)

    def on_fit_failed(self, event: ev.FitFailed) -> None:
        self._write(message=event.message, hint=event.hint)

    def on_fit_end(self, event: ev.FitEnded) -> None:
        if event.train_samples_per_second:
            self._write(samples_per_second=float(event.train_samples_per_second))

    def on_test_end(self, event: ev.TestScored) -> None:
        self._write(metrics=event.metrics)

    def on_run_end(self, event: ev.RunEnded) -> None:
        status = END_STATUS.get(event.status, RunStatus.FAILED)
        seconds = event.seconds if event.seconds and math.isfinite(event.seconds) else \
            time.perf_counter() - self._wall_start
        fields: dict[str, Any] = {"status": status, "ended": now_iso(), "seconds": float(seconds),
                                  "message": event.message, "hint": event.hint}
        if event.epochs_completed:
            fields["epochs_done"] = int(event.epochs_completed)
        chunk = self._take_buffers()  # a stopped run's partial epoch keeps its batch losses
        self._write(chunk or None, **fields)
        self.ended = True

    def set_status(self, status: str | RunStatus) -> None:
        """For the window's pause/resume (no engine event says so)."""
        self._write(status=RunStatus(status))


class Recording:
    """A run being recorded: `callbacks` to pass to the training, its folder, its id; `close()` at the end."""

    def __init__(self, store: RunStore, run: Run, lock: RunLock, recorder: RunRecorder, own_store: bool) -> None:
        self.store = store
        self.run = run
        self.run_id = run.id
        self.run_dir: Path = store.run_dir(run.id)
        self.recorder = recorder
        self.callbacks: list[ev.Callback] = [recorder]
        self._lock = lock
        self._own_store = own_store

    def fail(self, message: str, hint: str = "") -> None:
        """A run that ended before its training reported an end (refused settings, a broken peer):
        stored as failed with the reason the user was shown."""
        if not self.recorder.ended:
            self.recorder._write(status=RunStatus.FAILED, ended=now_iso(), message=message, hint=hint)
            self.recorder.ended = True

    def close(self) -> None:
        """Wait for the run's queued writes (a locked store), then release the run's lock; a run
        that never reached its end is marked interrupted first. With a store the caller keeps (the
        window), writes still queued are waited for on a background thread: the GUI never waits."""
        if self.recorder.writer.pending and not self._own_store:
            threading.Thread(target=self._finish, name=f"run-{self.run_id}-finish", daemon=True).start()
            return
        self._finish()

    def _finish(self) -> None:
        writer = self.recorder.writer
        if self._lock.held:
            try:
                if writer.pending:
                    log.warning("the run store is locked by another process: run %s is recorded once it is "
                                "free (its model files are already saved)", self.run_id)
                if not writer.flush():
                    log.warning("the run store stayed locked: run %s was not fully recorded", self.run_id)
                elif not self.recorder.ended:
                    run = self.store.get_run(self.run_id)
                    if run.status.active:
                        self.recorder.on_run_end(ev.RunEnded("interrupted", "The training ended without "
                                                                            "reporting how."))
                        writer.flush()
            except Exception:  # noqa: BLE001 - releasing the lock matters more
                log.exception("could not finish run %s in the store", self.run_id)
            finally:
                self._lock.release()
        writer.close()
        if self._own_store:
            self.store.close()

    def __enter__(self) -> "Recording":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_recording(config: Any, source: str = "cli", store: RunStore | None = None, runs: Runs | None = None,
                   name: str | None = None, status: str | RunStatus = RunStatus.RUNNING,
                   home: str | os.PathLike[str] | None = None, run_id: int | None = None) -> Recording:
    """Create the run in the store (default: the one in paths.home_dir()) with its folder and lock.

    The lock is taken inside the creating transaction, so no other process ever sees the run active
    without its lock. With `runs`, the new Run is added there and kept up to date. `run_id`: the id
    to give it (a session store's run among a window's other runs).
    """
    own = store is None
    store = store or open_store(home)
    lock_box: dict[str, RunLock] = {}

    def take_lock(run_id: int, folder: Path) -> None:
        lock = RunLock(folder)
        if not lock.try_acquire():
            from lstm_desktop.core.errors import StoreError

            raise StoreError(f"Run folder {folder} is locked by another process.",
                             "Another lstm-desktop is using this run store's files; try again.")
        lock_box["lock"] = lock

    started = now_iso() if RunStatus(status) is RunStatus.RUNNING else None
    fields = {"started": started, "info": {"pid": os.getpid()}, **machine_fields()}
    writer = StoreWriter(store)
    try:
        with store.without_waiting():
            run = store.create_run(config, source=source, name=name, status=status, before_commit=take_lock,
                                   run_id=run_id, **fields)
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            from lstm_desktop.core.errors import StoreError

            raise StoreError(f"Cannot record this run in the run store {store.path}: {exc}.",
                             "Check the folder's free space and permissions.") from exc
        run = reserve_run(store, writer, take_lock, config, source, name, status, fields)
    if runs is not None and run.id not in runs:
        runs.add(run)
    return Recording(store, run, lock_box["lock"], RunRecorder(store, run.id, runs, writer), own)
