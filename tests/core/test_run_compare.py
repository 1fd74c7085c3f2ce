"""The numbers behind the Results views: the diff of two runs lists only what differs, with deltas and
which side is better; parallel-coordinates axes put rates on log axes and choices on categories;
best_epoch finds the best validation accuracy and its epoch."""

from __future__ import annotations

import math

import pytest

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.metrics import Metrics
from lstm_desktop.core.runs.run_compare import diff_runs, parallel_axes
from lstm_desktop.core.runs.run_data import best_epoch
from lstm_desktop.core.runs.evented_runs import Run


def run(run_id: int, acc: float, val: list[float], **settings) -> Run:
    m = Metrics(accuracy=acc, precision=acc, recall=acc, f1=acc, per_class=[], confusion=[], samples=10)
    return Run(run_id, config=TrainConfig(**settings), metrics=m, status="finished", seconds=10.0 * run_id,
               history={"epoch": [float(i + 1) for i in range(len(val))], "val_accuracy": val})


def test_best_epoch_is_the_first_epoch_with_the_best_validation_accuracy():
    assert best_epoch({"epoch": [1.0, 2.0, 3.0, 4.0], "val_accuracy": [0.5, 0.9, 0.9, 0.8]}) == (0.9, 2)
    assert best_epoch({"val_accuracy": [0.2, 0.7]}) == (0.7, 2)
    assert best_epoch({"epoch": [1.0]}) is None


def test_the_diff_lists_only_what_differs_with_deltas():
    a = run(1, 0.90, [0.8, 0.92, 0.91], lr=1e-3, hidden=64)
    b = run(2, 0.95, [0.85, 0.96], lr=3e-3, hidden=64)
    rows = {r.name: r for r in diff_runs(a, b, lambda r: best_epoch(r.history))}
    assert "Hidden size" not in rows and "Batch size" not in rows  # equal settings are left out
    assert rows["Learning rate"].a == "0.001" and rows["Learning rate"].b == "0.003"
    assert rows["Test accuracy"].delta == "+5.00 pt" and rows["Test accuracy"].better == 1
    assert rows["Best validation accuracy"].delta == "+4.00 pt"
    assert "Best epoch" not in rows  # both peaked at epoch 2
    assert rows["Time (s)"].better == -1  # slower is worse
    assert diff_runs(a, a) == []


def test_parallel_axes_use_log_scales_for_rates_and_categories_for_choices():
    runs = [run(1, 0.9, [0.9], lr=1e-4, weight_decay=0.0, cell="gru"),
            run(2, 0.8, [0.8], lr=1e-2, weight_decay=1e-4, cell="lstm"),
            run(3, 0.7, [0.7], lr=1e-3, weight_decay=1e-5, cell="lstm")]
    axes = {a.key: a for a in parallel_axes(runs, lambda r: best_epoch(r.history))}
    assert "hidden" not in axes  # the same for every run
    lr = axes["lr"]
    assert lr.log and lr.positions == pytest.approx([0.0, 1.0, 0.5])  # 1e-3 is half way on a log axis
    wd = axes["weight_decay"]
    assert wd.log and wd.positions[0] == 0.0 and wd.positions[2] == pytest.approx(0.5)  # 0 sits a decade below
    assert axes["cell"].categories == ("gru", "lstm") and axes["cell"].positions == [0.0, 1.0, 1.0]
    assert axes["accuracy"].positions == pytest.approx([1.0, 0.5, 0.0])
    assert not any(math.isnan(p) for p in axes["best_val"].positions)
