"""Which CPU training step is fastest on this machine, found by timing them, once per shape.

Why: rules written on a 2-core machine (fast_path's module note) picked the Python split step on
a 16-core one, where the C kernel never ran. Cores, caches, MKL and oneDNN differ too much between
machines to rank the steps by rules; a few timed batches do it. The candidates are every step that
can run this model here (the C kernel cut into 1..N parts, the Python split with several threads a
part, the serial step with all threads); each is timed on a copy of the model and optimiser with
random batches of the run's shape, so the run's weights and random streams are untouched. The
winner is remembered per machine, torch version, thread count, model shape and batch size in the
user's data folder, so the next run with that shape starts at once and picks the same step (a
seeded run then repeats exactly). `LSTM_DESKTOP_STEP_CHOICE=rules` skips the timing and takes the
rules' pick (the test suite does, so its choices do not depend on the machine's load).
"""

from __future__ import annotations

import copy
import json
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

CHOICE_ENV = "LSTM_DESKTOP_STEP_CHOICE"
CACHE_NAME = "step-choices.json"
TIMED_BATCHES = 3  # timed batches in a block
ROUNDS = 2  # blocks per candidate, taking turns
SLOW_BATCH_SECONDS = 1.5  # a candidate this slow on its first batch is not timed further
BUSY_SHARE = 0.4  # of the threads kept busy by other programs: a timing then is not remembered


@dataclass(frozen=True)
class Candidate:
    """One way to train a batch: 'kernel' (parts), 'split' (parts x threads_each) or 'serial'."""

    kind: str
    parts: int = 1
    threads_each: int = 1

    @property
    def name(self) -> str:
        if self.kind == "kernel":
            inside = f" of {self.threads_each} threads" if self.threads_each > 1 else ""
            return f"C kernel in {self.parts} part{'s' if self.parts > 1 else ''}{inside}"
        if self.kind == "split":
            return f"torch split in {self.parts} parts of {self.threads_each} threads"
        return f"torch serial on {self.threads_each} thread{'s' if self.threads_each > 1 else ''}"

    def key(self) -> str:
        return f"{self.kind}:{self.parts}:{self.threads_each}"

    @classmethod
    def from_key(cls, key: str) -> "Candidate":
        kind, parts, threads = key.split(":")
        return cls(kind, int(parts), int(threads))


def measuring_enabled() -> bool:
    return os.environ.get(CHOICE_ENV, "").strip().lower() != "rules"


def machine_busy(threads: int) -> bool:
    """Other programs were keeping about half the cores busy over the last minute (the load average
    less this process): a choice timed then is used for this run but not remembered, since one core
    taken by something else makes the one-part step look best (seen: 1 part chosen, 1.5x slower
    than 2 parts on the quiet machine)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows: no load average
        return False
    return load - 1.0 >= BUSY_SHARE * threads


def machine_key(threads: int, shape: str, batch_size: int) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}|{os.cpu_count()} cpus|torch {torch.__version__}|{threads} threads|{shape}|batch {batch_size}"


class ChoiceCache:
    """The remembered winners, a small JSON file beside the run store; unreadable means empty."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from lstm_desktop.core.files.paths import home_dir

            path = home_dir() / CACHE_NAME
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def get(self, key: str) -> Candidate | None:
        value = self._read().get(key)
        try:
            return Candidate.from_key(value) if value else None
        except ValueError:
            return None

    def put(self, key: str, choice: Candidate) -> None:
        """Best effort: a read-only or full disk only means the next run times again."""
        from lstm_desktop.core.files.atomic import atomic_write

        data = self._read()
        data[key] = choice.key()
        try:
            with atomic_write(self.path, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
        except OSError:
            pass


def _one_batch(step: object, x: torch.Tensor, y: torch.Tensor) -> float:
    torch.set_num_threads(getattr(step, "threads_each", torch.get_num_threads()))  # each its own setting
    start = time.perf_counter()
    step.train_batch(x, y)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def time_candidates(builds: list[Callable[[], object]], x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Median seconds a batch of each candidate (inf where it cannot run). Each candidate runs in
    blocks of TIMED_BATCHES batches, ROUNDS blocks each, the blocks taking turns, so a burst of load
    slows them all alike; the first batch of a block is not timed, since the step before it may
    leave threads spinning (torch's OpenMP pool) that take the cores this one needs."""
    steps: list[object | None] = []
    times: list[list[float]] = []
    try:
        for build in builds:
            try:
                step = build()
                warm = _one_batch(step, x, y)
            except (OSError, RuntimeError, ValueError):
                step, warm = None, float("inf")
            steps.append(step)
            times.append([warm] if warm > SLOW_BATCH_SECONDS else [])
        for _ in range(ROUNDS):
            for step, seen in zip(steps, times):
                if step is None or (seen and seen[0] > SLOW_BATCH_SECONDS):
                    continue
                try:
                    _one_batch(step, x, y)  # the hand-over from the step before: not timed
                    seen.extend(_one_batch(step, x, y) for _ in range(TIMED_BATCHES))
                except (OSError, RuntimeError, ValueError):
                    seen[:] = [float("inf")]
    finally:
        for step in steps:
            if step is not None:
                step.close()  # type: ignore[attr-defined]
    return [statistics.median(seen) if seen else float("inf") for seen in times]


def fastest(candidates: list[Candidate], model: torch.nn.Module, make_opt: Callable[[torch.nn.Module], object],
            build: Callable[[Candidate, torch.nn.Module, object], object],
            x: torch.Tensor, y: torch.Tensor) -> tuple[Candidate, dict[str, float]]:
    """Times each candidate on its own copy of the model and optimiser; the run's random streams and
    torch's thread count are restored afterwards."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        def make(c: Candidate) -> Callable[[], object]:
            def build_copy() -> object:
                clone = copy.deepcopy(model)
                return build(c, clone, make_opt(clone))
            return build_copy

        timed = time_candidates([make(c) for c in candidates], x, y)
        torch.set_num_threads(threads)
    seconds = {c.key(): t for c, t in zip(candidates, timed)}
    best = min(candidates, key=lambda c: seconds[c.key()])
    return best, seconds
