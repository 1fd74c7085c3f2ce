"""Helpers the window tests share: train a run in a window and wait until its thread has ended."""

from __future__ import annotations

TRAIN_TIMEOUT_MS = 120_000  # a tiny run on a busy 2-core machine


def train(qtbot, window, config):
    """Train `config` in `window` to its end; returns the run."""
    with qtbot.waitSignal(window.trainingFinished, timeout=TRAIN_TIMEOUT_MS):
        run = window.start_training(config)
        assert run is not None
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    return run


def wait_for_batches(qtbot, window, n: int = 3) -> None:
    """Wait until the window's curves show n batches."""
    qtbot.waitUntil(lambda: window.plots.counts()["batches"] >= n, timeout=TRAIN_TIMEOUT_MS)
