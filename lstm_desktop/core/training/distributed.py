"""Data-parallel training under torchrun: one process per device, DistributedDataParallel.

    torchrun --nproc-per-node 2 -m lstm_desktop train --dataset mnist --batch-size 128

`lstm-desktop train` lands here when WORLD_SIZE > 1 (cli/distributed.py, which prints the result
and exits; this module prints nothing and never exits the process). Every rank loads the data,
builds the same model (same seed; DDP also broadcasts rank 0's weights) and trains on its slice of
each epoch's shuffle (engine.Shard: perm[rank::world] of a permutation seeded identically on
every rank). Semantics:

- `--batch-size` is the GLOBAL batch: each of N processes steps on batch_size / N samples and
  DDP averages the gradients, so N processes take the same optimiser steps as one process with the
  whole batch (same samples, same order, up to float rounding). The learning rate needs no change
  when only N changes.
- Train loss/accuracy are sums reduced across ranks; validation is split across ranks and reduced
  the same way. The final test-set metrics are computed on every rank from identical weights (DDP
  keeps them equal), and only rank 0 prints or saves them.
- Only rank 0 prints, draws the progress bar and writes the checkpoint (same format as a single
  process: the bare model, never the DDP wrapper; info records world_size).
- Backend: nccl with CUDA (rank -> cuda:LOCAL_RANK), gloo on CPU (`--device cpu` forces it).
- Threads per process default to the usable cores // processes on this node (--threads overrides).
- Failures end the job instead of hanging: every collective has a timeout
  ($LSTM_DESKTOP_DIST_TIMEOUT seconds, default 300); a monitored barrier after loading the data
  names the ranks that never arrived; a rank that raises prints which rank failed and why, records
  it for torchrun's summary, and exits at once, which breaks its peers' pending collectives (gloo:
  connection closed; nccl: watchdog timeout) and makes torchrun stop the rest.

Two tiny hooks for tests and debugging: $LSTM_DESKTOP_SHARD_LOG=<folder> makes each rank append the
training indices of every epoch to <folder>/rank<R>.jsonl; $LSTM_DESKTOP_FAULT_RANK=<r> makes rank
r fail: raise after its first batch ($LSTM_DESKTOP_FAULT_KIND=raise, the default) or hang before
the start barrier (=hang).
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.errors import ConfigError, DeviceError, LstmDesktopError
from lstm_desktop.core.training.events import Callback

ENV_TIMEOUT = "LSTM_DESKTOP_DIST_TIMEOUT"
ENV_SHARD_LOG = "LSTM_DESKTOP_SHARD_LOG"
ENV_FAULT_RANK = "LSTM_DESKTOP_FAULT_RANK"
ENV_FAULT_KIND = "LSTM_DESKTOP_FAULT_KIND"
DEFAULT_TIMEOUT_S = 300.0
MAX_TIMEOUT_S = 604800.0  # a week: timedelta and the backends take no more (1e999 would overflow)


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits in the job, as torchrun describes it in the environment."""

    rank: int
    world: int
    local_rank: int
    local_world: int

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> "DistEnv":
        env = os.environ if environ is None else environ
        missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if k not in env]
        if missing:
            raise ConfigError(f"WORLD_SIZE is set but {', '.join(missing)} is not: this is not a torchrun launch.",
                              "Start data-parallel training with `torchrun --nproc-per-node N -m lstm_desktop "
                              "train ...`, or unset WORLD_SIZE to train in one process.")
        world = int(env["WORLD_SIZE"])
        return cls(int(env["RANK"]), world, int(env.get("LOCAL_RANK", 0)),
                   int(env.get("LOCAL_WORLD_SIZE", world)))

    def where(self) -> str:
        return f"rank {self.rank} of {self.world} (local rank {self.local_rank} on {socket.gethostname()})"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads(local_world: int) -> int:
    """The cores this node lets us use, shared evenly by its processes (at least one each)."""
    return max(1, usable_cores() // max(1, local_world))


def pick_device(requested: str, local_rank: int) -> torch.device:
    """cpu -> cpu (gloo); auto/cuda[:n] with CUDA -> cuda:LOCAL_RANK (nccl); auto without CUDA -> cpu."""
    name = (requested or "auto").strip().lower()
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if name == "auto" or name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(f"Device {name!r} is not available on this machine.",
                              "Train on the CPU with --device cpu.")
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise DeviceError(f"Local rank {local_rank} needs cuda:{local_rank}, but this machine has {count} GPU(s).",
                              f"Start at most {count} processes per node (--nproc-per-node {count}), "
                              "or train with --device cpu.")
        return torch.device("cuda", local_rank)
    raise DeviceError(f"Data-parallel training runs on cpu or cuda, not {name!r}.",
                      "Use --device cpu or --device cuda, or train in one process (without torchrun).")


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def timeout_from_env() -> timedelta:
    """$LSTM_DESKTOP_DIST_TIMEOUT as a timedelta: a finite number of seconds in (0, MAX_TIMEOUT_S]."""
    text = os.environ.get(ENV_TIMEOUT, "")
    try:
        seconds = float(text) if text else DEFAULT_TIMEOUT_S
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= MAX_TIMEOUT_S:  # NaN and infinities fail this too
        raise ConfigError(f"{ENV_TIMEOUT} must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:.0f} "
                          f"(7 days), not {text!r}.",
                          f"Unset it for the default ({DEFAULT_TIMEOUT_S:g} s), or set e.g. {ENV_TIMEOUT}=600.")
    return timedelta(seconds=seconds)


def distributed_config(config: TrainConfig, env: DistEnv, device: torch.device) -> TrainConfig:
    """The config every rank trains with: its device, its threads; the batch must split evenly."""
    if config.batch_size % env.world:
        lo = config.batch_size - config.batch_size % env.world
        raise ConfigError(f"--batch-size {config.batch_size} is the global batch and must split evenly over "
                          f"{env.world} processes.",
                          f"Use a multiple of {env.world}, e.g. {max(lo, env.world)} or {lo + env.world}.")
    return config.replace(device=str(device), threads=config.threads or default_threads(env.local_world))


def _all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    t = t.clone()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


class _ShardLog:
    """Appends {"rank", "epoch", "indices"} lines to <folder>/rank<R>.jsonl (test/debug hook)."""

    def __init__(self, folder: str, rank: int, world: int) -> None:
        self.path = Path(folder) / f"rank{rank}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rank, self.world = rank, world

    def __call__(self, epoch: int, indices: torch.Tensor) -> None:
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"rank": self.rank, "world": self.world, "epoch": epoch,
                                 "indices": indices.tolist()}) + "\n")


def _fault(rank: int) -> str | None:
    """Fault injection for tests: 'raise' (after the first batch) or 'hang' (before the start barrier)."""
    if os.environ.get(ENV_FAULT_RANK, "") != str(rank):
        return None
    return os.environ.get(ENV_FAULT_KIND, "raise")


class _RaiseAfterFirstBatch(Callback):
    def on_batch_end(self, event: Any) -> None:
        raise RuntimeError(f"injected fault ({ENV_FAULT_RANK}={os.environ.get(ENV_FAULT_RANK)})")


def _load_data(config: TrainConfig, download: bool, env: DistEnv, group) -> Any:
    """Every rank loads the data; if MNIST must be downloaded anywhere, local rank 0 does it first."""
    from lstm_desktop.core.data.image_sets import resolve_data_dir
    from lstm_desktop.core.data.mnist_files import missing_mnist_files
    from lstm_desktop.core.data.catalog import load_bundle_for

    load = lambda dl: load_bundle_for(config, download=dl)  # noqa: E731
    needs = config.dataset == "mnist" and download and bool(missing_mnist_files(resolve_data_dir(config.data_dir)))
    flag = torch.tensor([1.0 if needs else 0.0])
    dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=group)
    if not flag.item():
        return load(False)
    data = load(True) if env.local_rank == 0 else None
    dist.barrier(group=group)
    return data if data is not None else load(False)


def _short(exc: BaseException) -> str:
    """The first sentence of an error, without gloo's '[.../pair.cc:561]' source prefix."""
    text = re.sub(r"\[[^\]]*\.(?:cc|cpp|h):\d+\]\s*", "", " ".join(str(exc).split()))
    text = text.split(". ")[0].rstrip(".")
    return text[:300] or type(exc).__name__


def _describe_failure(exc: BaseException, env: DistEnv, timeout: timedelta) -> tuple[str, str, bool]:
    """(message, hint, secondary) for a rank that is ending the job; secondary: a peer failed first."""
    if isinstance(exc, LstmDesktopError):
        return f"{env.where()} failed: {exc.message}", exc.hint, False
    text = _short(exc)
    stuck = re.search(r"Ranks? ([\d, ]+) failed to pass monitoredBarrier", text)
    if stuck:
        return (f"{env.where()} stopped: rank(s) {stuck.group(1).strip()} did not reach the start of training "
                f"within {timeout.total_seconds():g} s ({text})",
                f"That rank is still loading its data, hung or gone (see its own message, if any). Raise "
                f"{ENV_TIMEOUT} (seconds) if loading legitimately takes longer.", False)
    if any(s in text for s in ("Timed out", "timed out", "monitoredBarrier", "Watchdog")):
        return (f"{env.where()} stopped: no answer from another process within {timeout.total_seconds():g} s "
                f"({type(exc).__name__}: {text})",
                f"A rank is hung, far too slow or gone. Raise {ENV_TIMEOUT} (seconds) if a step can "
                "legitimately take longer.", False)
    if isinstance(exc, getattr(dist, "DistError", ())) or any(
            s in text for s in ("Connection closed", "Connection reset", "Broken pipe")):
        return (f"{env.where()} stopped: lost contact with another process ({type(exc).__name__}: {text})",
                "Another rank failed first: see its message above, or the root cause in torchrun's summary.",
                True)
    return (f"{env.where()} failed: {type(exc).__name__}: {text}",
            "The other processes are being stopped; rank 0 has saved the last finished epoch (if any).", False)


def _record_for_torchrun(message: str, secondary: bool) -> None:
    """Write the failure where torchrun's summary looks for it (TORCHELASTIC_ERROR_FILE).

    torchrun names the failure with the earliest (whole-second) timestamp as the root cause, so a
    rank that only lost contact with a failed peer dates its report a second later.
    """
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not path:
        return
    data = {"message": {"message": message, "extraInfo": {
        "py_callstack": f"{traceback.format_exc()}\n{message}",
        "timestamp": str(int(time.time()) + (1 if secondary else 0))}}}
    try:
        with open(path, "w") as fh:
            json.dump(data, fh)
    except OSError:
        pass


def abort_process_group() -> None:
    """Before a failing rank leaves: nccl needs an explicit abort (the OS closes gloo's sockets)."""
    try:
        if dist.is_initialized() and dist.get_backend() == "nccl":
            dist.distributed_c10d._abort_process_group()  # experimental, nccl only
    except Exception:  # noqa: BLE001 - best effort on the way out
        pass


@dataclass
class DistributedResult:
    """How one rank's part of the job ended. The CLI prints it and exits; `abort` means exit at once
    (os._exit), so that the peers' pending collectives break instead of hanging."""

    code: int
    rank: int
    world: int
    outcome: Any = None  # core.session.TrainingOutcome, when training ran
    message: str = ""
    hint: str = ""
    abort: bool = False
    say: bool = True  # print the message on this rank (a settings error is said once, by rank 0)
    banner: str = ""  # rank 0's "data-parallel: N processes ..." line


def train_distributed(config: TrainConfig, callbacks: list, out: str | None = None, download: bool = True,
                      on_banner: Callable[[str], None] | None = None,
                      run_dir: str | None = None) -> DistributedResult:
    """The body of `torchrun ... -m lstm_desktop train ...` on one rank. `callbacks` observe rank 0's
    training only (the progress printer, the run recorder). Prints nothing; never exits."""
    env = DistEnv.from_environ()
    try:
        device = pick_device(config.device, env.local_rank)
        config = distributed_config(config, env, device)
        timeout = timeout_from_env()
    except DeviceError as exc:  # this rank's own device: every rank that cannot start says why
        return DistributedResult(2, env.rank, env.world, message=f"{env.where()} cannot start: {exc.message}",
                                 hint=exc.hint)
    except LstmDesktopError as exc:  # a setting, the same on every rank: rank 0 says it once
        return DistributedResult(2, env.rank, env.world, message=exc.message, hint=exc.hint, say=env.rank == 0)
    backend = backend_for(device)
    try:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend, init_method="env://", timeout=timeout,
                                **({"device_id": device} if device.type == "cuda" else {}))
        # monitored barriers and small control messages need gloo, whatever trains the model
        control_group = dist.new_group(backend="gloo", timeout=timeout) if backend != "gloo" else None
        return _run(config, callbacks, out, download, on_banner, run_dir, env, device, backend, timeout, control_group)
    except KeyboardInterrupt:
        abort_process_group()
        return DistributedResult(130, env.rank, env.world, message=f"{env.where()}: interrupted", abort=True)
    except BaseException as exc:  # noqa: BLE001 - any failure must end the whole job, not hang it
        message, hint, secondary = _describe_failure(exc, env, timeout)
        _record_for_torchrun(message, secondary)
        abort_process_group()
        return DistributedResult(1, env.rank, env.world, message=message, hint=hint, abort=True)


def _run(config: TrainConfig, callbacks: list, out: str | None, download: bool, on_banner, run_dir,
         env: DistEnv, device: torch.device, backend: str, timeout: timedelta, control_group) -> DistributedResult:
    from lstm_desktop.core.training.control import TrainingControl
    from lstm_desktop.core.training.engine import Shard
    from lstm_desktop.core.training.session import run_training

    data = _load_data(config, download, env, control_group)
    fault = _fault(env.rank)
    while fault == "hang":  # a rank stuck before training, e.g. on a slow file system
        time.sleep(3600)
    # every rank has its data: one that never gets here is named in the error
    dist.monitored_barrier(group=control_group, timeout=timeout, wait_all_ranks=True)

    shard_log = os.environ.get(ENV_SHARD_LOG)
    shard = Shard(env.rank, env.world, _all_reduce_sum,
                  observe=_ShardLog(shard_log, env.rank, env.world) if shard_log else None)

    def wrap(model: torch.nn.Module) -> torch.nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        if env.rank > 0:  # weights are already equal; give dropout an independent stream per rank
            torch.manual_seed(config.seed + 1_000_003 * env.rank)
        return ddp

    writer = env.rank == 0
    observers: list = list(callbacks) if writer else []
    if writer and on_banner is not None:
        per = config.batch_size // env.world
        on_banner(f"data-parallel: {env.world} processes ({backend}, {device.type}), global batch "
                  f"{config.batch_size} = {env.world} x {per}, {config.threads} thread(s) per process")
    if fault == "raise":
        observers.append(_RaiseAfterFirstBatch())

    # No stop flag here: a stop seen by one rank and not the others would desynchronise the
    # collectives. Ctrl-C ends every rank; rank 0 has saved the last finished epoch by then.
    outcome = run_training(config, observers, TrainingControl(), out=out, data=data, shard=shard, wrap=wrap,
                           is_writer=writer, run_dir=run_dir if writer else None)
    dist.destroy_process_group()
    return DistributedResult(1 if outcome.fit.failure is not None else 0, env.rank, env.world, outcome)
