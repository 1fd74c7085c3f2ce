"""An order of the hidden units that lets structure show in the gate heatmaps.

In storage order, 128 unit columns look like noise. Sorted by the time step at which each unit's
hidden state changes most, units that respond to the same rows of the digit sit together and the
heatmap shows a diagonal: early-reacting units on the left, late ones on the right. The order is
a pure function of the states (stable sort, ties by size of the change, then unit number), so the
same model and input always give the same order. Pure numpy: no Qt, usable on a worker thread.
"""

from __future__ import annotations

import numpy as np

BY_CHANGE = "change"
BY_NUMBER = "number"


FLAT = 1e-3  # a unit whose h never moves more than this between rows is sorted last


def change_rows(hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a (T, H) hidden state: per unit, the row (0-based, >= 1) at which h changes most from
    the row before, and that change. The step into row 0 (from the zero initial state) is left
    out: it reflects the unit's bias, not the digit, and would put most units at row 0."""
    h = np.asarray(hidden, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] < 2:
        units = h.shape[1] if h.ndim == 2 else 0
        return np.zeros(units, dtype=np.int64), np.zeros(units)
    steps = np.nan_to_num(np.abs(np.diff(h, axis=0)), nan=0.0)
    rows = steps.argmax(axis=0)
    return rows.astype(np.int64) + 1, steps[rows, np.arange(h.shape[1])]


def unit_order(hidden: np.ndarray, by: str = BY_CHANGE) -> np.ndarray:
    """Column order (indices into the units) for a (T, H) hidden state."""
    h = np.asarray(hidden)
    units = h.shape[1] if h.ndim == 2 else 0
    if by != BY_CHANGE or units == 0:
        return np.arange(units)
    rows, size = change_rows(h)
    flat = size < FLAT
    # lexsort: last key first; flat units last, then by row, ties by the larger change, unit number
    return np.lexsort((np.arange(units), -size, rows, flat))
