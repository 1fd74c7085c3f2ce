"""What the runs table's filter keeps: free text, a dataset, a status, hidden runs left out unless
asked, and runs that never finished an epoch (no model) left out unless asked.

Plain Python, applied by the table model itself (ui/runs_table_model.py) in one pass over its
runs, then one model reset: a QSortFilterProxyModel asked Python once per row (10,000 calls from
C++ per keystroke, and again after every sort) and told the view of each removed stretch of rows
apart (thousands of signals for one word), which took most of 100 ms with 10,000 runs.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from lstm_desktop.core.runs.evented_runs import Run, RunStatus

PIN_TAG, HIDE_TAG = "pinned", "hidden"


def is_pinned(run: Run) -> bool:
    return PIN_TAG in run.tags


def is_hidden(run: Run) -> bool:
    return HIDE_TAG in run.tags


def has_no_model(run: Run) -> bool:
    """A run that ended without a finished epoch: a Train pressed without data or stopped at once."""
    return run.status in (RunStatus.FAILED, RunStatus.STOPPED, RunStatus.INTERRUPTED) and run.epochs_done == 0


def adapted_message(base: str, drawings: int, seconds: float, read_right: float) -> str:
    """An adapted run's message: what it was adapted from and on how many drawings (adapted_text reads it)."""
    return (f"adapted from {base}: fine-tuned on {drawings} of your drawings in {seconds:.1f} s; it reads "
            f"{read_right * 100:.0f}% of them right (not re-scored on the test set)")


def adapted_text(run: Run) -> str:
    """What an adapted run is, for its row: not the settings (and epochs) of the model it started from."""
    found = _ADAPTED.search(run.message)
    if found is None:
        return "adapted on your drawings"
    base, drawings = found.groups()
    return f"adapted from {base} on {drawings} drawings" if base else f"adapted on {drawings} drawings"


_ADAPTED = re.compile(r"(?:adapted from (.+?): )?fine-tuned on (\d+) of your drawings")


def settings_text(run: Run) -> str:
    """The settings that most often differ between runs, in a few words."""
    if run.source == "adapted":
        return adapted_text(run)
    c = run.config
    if c is None:
        return "–"
    return settings_text_of({"lr": c.lr, "batch_size": c.batch_size, "lr_schedule": c.lr_schedule,
                             "dropout": c.dropout, "augment": c.augment, "seed": c.seed})


def settings_text_of(c: dict[str, Any]) -> str:
    """settings_text from a config's dict (a stored run's JSON, without building a TrainConfig)."""
    try:
        parts = [f"lr {float(c['lr']):g}", f"batch {c['batch_size']}"]
    except (KeyError, TypeError, ValueError):
        return "–"
    if c.get("lr_schedule", "none") != "none":
        parts.append(str(c["lr_schedule"]))
    if c.get("dropout"):
        parts.append(f"dropout {float(c['dropout']):g}")
    if c.get("augment"):
        parts.append("augment")
    parts.append(f"seed {c.get('seed', 0)}")
    return " · ".join(parts)


def haystack_of(run: Run) -> str:
    """The lower-case text the filter searches: name, model, settings, notes, tags, data, status."""
    raw = run.__dict__.get("_config")  # a stored run's config still as JSON: read, not validated
    settings = settings_text_of(json.loads(raw)) if isinstance(raw, str) and run.source != "adapted" \
        else settings_text(run)
    return " ".join((run.name, run.variant, settings, run.notes, " ".join(run.tags), run.dataset,
                     str(run.status))).lower()


def flags_of(run: Run) -> tuple[str, str, bool, bool]:
    """What the filter reads of a run besides its text (cheap: no JSON): (dataset, status, hidden,
    without a model)."""
    return run.dataset, str(run.status), is_hidden(run), has_no_model(run)


class RunFilter:
    """The filter's settings, and whether a run passes them. `modelless` (show runs without a
    model) is on for a bare model; the runs panel turns it off."""

    def __init__(self) -> None:
        self.text = ""
        self.words: list[str] = []
        self.dataset = ""
        self.status = ""
        self.show_hidden = False
        self.modelless = True

    def set(self, text: str | None = None, dataset: str | None = None, status: str | None = None,
            show_hidden: bool | None = None, modelless: bool | None = None) -> None:
        if text is not None:
            self.text = text.strip().lower()
            self.words = self.text.split()
        if dataset is not None:
            self.dataset = dataset
        if status is not None:
            self.status = status
        if show_hidden is not None:
            self.show_hidden = bool(show_hidden)
        if modelless is not None:
            self.modelless = bool(modelless)

    def keeps_all(self, any_hidden: bool) -> bool:
        """True when nothing would be left out (the common case: no per-run work)."""
        return not (self.words or self.dataset or self.status) and (self.show_hidden or not any_hidden) \
            and self.modelless

    def keeps(self, flags: tuple, haystack: Callable[[], str]) -> bool:
        """Whether a run passes, from its flags_of (and its haystack_of, read only for words)."""
        return bool(self.kept([0], {0: flags}, {0: haystack()} if self.words else {}))

    def kept(self, ids: list[int], flags: dict[int, tuple], hays: dict[int, str]) -> list[int]:
        """The ids that pass, in order; flags: id -> flags_of(run), hays: id -> haystack_of(run)
        (needed only with words; an id without them is left out). One plain loop, no call per run:
        10,000 runs in a few milliseconds."""
        words, dataset, status = self.words, self.dataset, self.status
        hide, no_models = not self.show_hidden, not self.modelless
        out = []
        for rid in ids:
            f = flags.get(rid)
            if f is None or (hide and f[2]) or (no_models and f[3]) or (dataset and f[0] != dataset) or \
                    (status and f[1] != status):
                continue
            if words:
                hay = hays.get(rid)
                if hay is None:
                    continue
                for word in words:
                    if word not in hay:
                        break
                else:
                    out.append(rid)
            else:
                out.append(rid)
        return out
