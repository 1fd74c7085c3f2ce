"""Runs a crash or a kill left `interrupted` that the user has not been told about yet, and what to
tell them. Qt-free, so the window's notice (ui/interrupted_notice.py) stays a thin layer and the
rules are tested without a display.

Why "told once": the store marks such runs at its next open (core/runs/store_recovery.py), but nothing
said so; the window now says it at the next launch, and remembers the runs it named (by id and
creation time: an id alone could come back after a purge) so the next launch does not repeat it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from lstm_desktop.core.runs.evented_runs import Run, RunStatus


@dataclass(frozen=True)
class Interrupted:
    """What the notice says of one run: what was kept, and how to find it."""

    run_id: int
    name: str
    key: str
    epochs_done: int
    epochs_total: int | None
    has_model: bool

    @property
    def kept(self) -> str:
        """What was kept, as a sentence (the notice of one run)."""
        if self.epochs_done == 0:
            return "No epoch had finished, so no model was kept."
        if not self.has_model:
            return f"{self._epochs} epochs had finished, but its model file is missing."
        return f"Its last finished epoch ({self._epochs}) is kept as its model."

    @property
    def brief(self) -> str:
        """What was kept, in a few words (the notice of several runs)."""
        if self.epochs_done == 0:
            return f"{self.name}: no epoch finished, no model"
        return f"{self.name}: epoch {self._epochs} " + ("kept" if self.has_model else "(model file missing)")

    @property
    def _epochs(self) -> str:
        return f"{self.epochs_done} of {self.epochs_total}" if self.epochs_total else str(self.epochs_done)


def run_key(run: Run) -> str:
    return f"{run.id}@{run.created}"


def _is_interrupted(run: Run) -> bool:
    return run.status is RunStatus.INTERRUPTED and run.deleted_at is None


def newly_interrupted(runs: Iterable[Run], told: Iterable[str],
                      model_exists: Callable[[Run], bool]) -> list[Interrupted]:
    """The interrupted runs whose key is not in `told`, oldest first."""
    told = set(told)
    return [Interrupted(run.id, run.name, run_key(run), run.epochs_done, run.epochs_total,
                        model_exists(run))
            for run in sorted(runs, key=lambda r: r.id) if _is_interrupted(run) and run_key(run) not in told]


def remembered(runs: Iterable[Run], told: Iterable[str], new: Iterable[Interrupted]) -> list[str]:
    """The keys to keep as told: those of runs still interrupted (the list never grows past them)."""
    keys = set(told) | {item.key for item in new}
    return sorted(run_key(run) for run in runs if _is_interrupted(run) and run_key(run) in keys)


def notice(items: list[Interrupted]) -> tuple[str, str]:
    """(message, hint) for a banner, short enough for one line each; items is not empty."""
    if len(items) == 1:
        return f"{items[0].name} was interrupted: a crash or a kill ended its process.", items[0].kept
    shown = items[-3:]
    more = f"; {len(items) - len(shown)} more in Results" if len(items) > len(shown) else ""
    return (f"{len(items)} runs were interrupted: a crash or a kill ended their processes.",
            "; ".join(item.brief for item in shown) + more + ".")
