"""Comparing runs as data, apart from drawing them: the diff of two runs and the axes of a
parallel-coordinates view. No Qt, so both are tested without a window.

Why: the Results views must answer "what differs between these two" and "which settings go with
the best results" for hundreds of runs; the numbers behind them belong in the core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from lstm_desktop.core.training.config import EXPOSED
from lstm_desktop.core.runs.evented_runs import Run

BestOf = Callable[[Run], "tuple[float, int] | None"]
SKIPPED = {"data_dir", "device", "threads", "cpu_split", "cpu_kernel"}  # how it ran, not what was trained


@dataclass(frozen=True)
class DiffRow:
    section: str  # "Settings", "Run", "Results"
    name: str
    a: str
    b: str
    delta: str = ""  # b - a, for numbers
    better: int = 0  # +1: b is better, -1: b is worse, 0: neither or not a result


@dataclass(frozen=True)
class Result:
    """A result a run has: its name, how to read it, and whether higher is better."""

    key: str
    label: str
    value: Callable[[Run, BestOf], "float | None"]
    percent: bool = False
    higher_is_better: bool = True


def _metric(name: str) -> Callable[[Run, BestOf], float | None]:
    return lambda run, best: getattr(run.metrics, name, None) if run.metrics is not None else None


def _last(curve: str) -> Callable[[Run, BestOf], float | None]:
    return lambda run, best: float(run.history[curve][-1]) if run.history.get(curve) else None


RESULTS: tuple[Result, ...] = (
    Result("accuracy", "Test accuracy", _metric("accuracy"), percent=True),
    Result("f1", "Test F1 (macro)", _metric("f1")),
    Result("precision", "Test precision", _metric("precision")),
    Result("recall", "Test recall", _metric("recall")),
    Result("best_val", "Best validation accuracy", lambda r, best: (best(r) or (None,))[0], percent=True),
    Result("best_epoch", "Best epoch", lambda r, best: (best(r) or (None, None))[1], higher_is_better=False),
    Result("val_loss", "Last validation loss", _last("val_loss"), higher_is_better=False),
    Result("train_loss", "Last training loss", _last("train_loss"), higher_is_better=False),
    Result("epochs", "Epochs done", lambda r, best: float(r.epochs_done)),
    Result("seconds", "Time (s)", lambda r, best: r.seconds, higher_is_better=False),
    Result("samples_per_second", "Training samples/s", lambda r, best: r.samples_per_second),
    Result("parameters", "Parameters", lambda r, best: r.parameters, higher_is_better=False),
)
RESULT_BY_KEY = {r.key: r for r in RESULTS}


def _no_best(run: Run) -> None:
    return None


def _show(value: Any, percent: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if percent:
            return f"{value * 100:.2f}%"
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"
    return str(value)


def _delta(a: float, b: float, percent: bool) -> str:
    d = b - a
    if percent:
        return f"{d * 100:+.2f} pt"
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        return f"{int(d):+d}"
    ratio = f" (×{b / a:.3g})" if a not in (0, 0.0) and b / a > 0 and (b / a > 1.5 or b / a < 0.67) else ""
    return f"{d:+.4g}{ratio}"


def diff_runs(a: Run, b: Run, best: BestOf = _no_best) -> list[DiffRow]:
    """Only what differs between runs a and b: results with b - a first, then settings, then how they ran."""
    return [*_result_rows(a, b, best), *_setting_rows(a, b), *_run_rows(a, b)]


def _result_rows(a: Run, b: Run, best: BestOf) -> list[DiffRow]:
    rows = []
    for result in RESULTS:
        va, vb = result.value(a, best), result.value(b, best)
        if va is None and vb is None or va == vb:
            continue
        if va is None or vb is None:
            rows.append(DiffRow("Results", result.label, _show(va, result.percent), _show(vb, result.percent)))
            continue
        sign = (1 if vb > va else -1) * (1 if result.higher_is_better else -1)
        if result.key in ("epochs", "samples_per_second", "parameters"):
            sign = 0  # neither better nor worse in itself
        rows.append(DiffRow("Results", result.label, _show(va, result.percent), _show(vb, result.percent),
                            _delta(va, vb, result.percent), sign))
    return rows


def _setting_rows(a: Run, b: Run) -> list[DiffRow]:
    ca, cb = a.config, b.config
    if ca is None or cb is None:
        if (ca is None) != (cb is None):
            return [DiffRow("Settings", "Settings", "unknown" if ca is None else "known",
                            "unknown" if cb is None else "known")]
        return []
    rows = []
    for s in EXPOSED:
        if s.name in SKIPPED:
            continue
        va, vb = getattr(ca, s.name), getattr(cb, s.name)
        if va != vb:
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (va, vb))
            rows.append(DiffRow("Settings", s.label, _show(va), _show(vb), _delta(va, vb, False) if numeric else ""))
    return rows


def _run_rows(a: Run, b: Run) -> list[DiffRow]:
    facts = [("Model", "variant"), ("Status", "status"), ("Source", "source"), ("Device", "device"),
             ("Torch", "torch_version"), ("Machine", "host")]
    if a.config is None or b.config is None:  # otherwise the dataset is among the settings
        facts.insert(1, ("Dataset", "dataset"))
    rows = []
    for label, name in facts:
        va, vb = str(getattr(a, name) or "–"), str(getattr(b, name) or "–")
        if va != vb:
            rows.append(DiffRow("Run", label, va, vb))
    return rows


# ---- parallel coordinates ------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    key: str
    label: str
    positions: list[float]  # per run, in [0, 1] (NaN: the run has no value)
    ticks: list[tuple[float, str]]  # (position, text)
    log: bool = False
    categories: tuple[str, ...] = ()


PARALLEL_RESULTS = ("accuracy", "best_val", "best_epoch", "seconds")


def _numeric_axis(key: str, label: str, values: Sequence[float | None], log: bool) -> Axis:
    present = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if log:  # a rate of 0 (no weight decay) sits one decade below the smallest non-zero value
        positive = [v for v in present if v > 0]
        floor = min(positive) / 10 if positive else 1e-6
        transform = lambda v: math.log10(v if v > 0 else floor)  # noqa: E731
    else:
        transform = float
    if not present:
        return Axis(key, label, [math.nan] * len(values), [], log)
    mapped = [transform(v) for v in present]
    lo, hi = min(mapped), max(mapped)
    span = hi - lo

    def position(v: float | None) -> float:
        if v is None or not math.isfinite(float(v)):
            return math.nan
        return 0.5 if span == 0 else (transform(float(v)) - lo) / span

    ends = {position(v): (_show(v) if not (log and v == 0) else "0") for v in (min(present), max(present))}
    ticks = dict(ends)
    if log and span > 0:  # decades between the ends, where they do not crowd an end's label
        for e in range(math.ceil(lo), math.floor(hi) + 1):
            p = position(10.0 ** e)
            if all(abs(p - q) > 0.06 for q in ends):
                ticks[p] = f"1e{e}"
    ticks = sorted(ticks.items())
    return Axis(key, label, [position(v) for v in values], ticks, log)


def _category_axis(key: str, label: str, values: Sequence[Any]) -> Axis:
    cats = tuple(sorted({_show(v) for v in values if v is not None}))
    where = {c: (i / (len(cats) - 1) if len(cats) > 1 else 0.5) for i, c in enumerate(cats)}
    positions = [where[_show(v)] if v is not None else math.nan for v in values]
    return Axis(key, label, positions, [(where[c], c) for c in cats], categories=cats)


def parallel_axes(runs: Sequence[Run], best: BestOf = _no_best, results: Sequence[str] = PARALLEL_RESULTS,
                  all_settings: bool = False) -> list[Axis]:
    """One axis per setting that differs among the runs (all exposed ones with all_settings), then
    the results; rates (lr, weight decay) on log axes, choices and switches as categories."""
    axes: list[Axis] = []
    configs = [r.config for r in runs]
    for s in EXPOSED:
        if s.name in SKIPPED:
            continue
        values = [getattr(c, s.name) if c is not None else None for c in configs]
        if not all_settings and len({repr(v) for v in values if v is not None}) < 2:
            continue
        if s.kind in (int, float) and not s.choices:
            axes.append(_numeric_axis(s.name, s.label, values, log=s.adaptive))
        else:
            axes.append(_category_axis(s.name, s.label, values))
    for key in results:
        result = RESULT_BY_KEY[key]
        values = [result.value(r, best) for r in runs]
        axes.append(_numeric_axis(key, result.label, values, log=False))
    return axes


def result_values(runs: Sequence[Run], key: str, best: BestOf = _no_best) -> list[float | None]:
    """A result of each run, for colouring (None: the run has none)."""
    result = RESULT_BY_KEY[key]
    return [result.value(r, best) for r in runs]
