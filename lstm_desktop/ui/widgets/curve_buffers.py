"""Numpy buffers behind the live curves: rows appended in chunks, and the exponential moving
average of the batch loss. Pure numpy (no Qt), so they are cheap to test and to reuse."""

from __future__ import annotations

import numpy as np


class GrowingBuffer:
    """Rows of floats in a preallocated array that doubles when full (amortised O(1) appends)."""

    def __init__(self, columns: int, capacity: int = 1024) -> None:
        self._data = np.empty((capacity, columns), dtype=np.float64)
        self.n = 0

    def extend(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim == 1:
            rows = rows[None, :]
        need = self.n + len(rows)
        if need > len(self._data):
            capacity = len(self._data)
            while capacity < need:
                capacity *= 2
            grown = np.empty((capacity, self._data.shape[1]), dtype=np.float64)
            grown[: self.n] = self._data[: self.n]
            self._data = grown
        self._data[self.n:need] = rows
        self.n = need

    def view(self) -> np.ndarray:
        return self._data[: self.n]

    def clear(self) -> None:
        self.n = 0

    def __len__(self) -> int:
        return self.n


def ema(values: np.ndarray, weight: float, start: float | None = None) -> np.ndarray:
    """Exponential moving average y[n] = w*y[n-1] + (1-w)*x[n], y[-1] = start (default x[0]).

    Vectorised by blocks: inside a block y[k] = w^(k+1) y_prev + (1-w) w^k cumsum(x[j] w^-j), with
    blocks short enough that w^-j stays far from overflow.
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0 or weight <= 0.0:
        return x.copy()
    prev = float(x[0]) if start is None else float(start)
    block = int(max(1, min(512, 150.0 / -np.log10(weight)))) if weight < 1.0 else len(x)
    out = np.empty_like(x)
    powers = weight ** np.arange(block + 1, dtype=np.float64)
    inverse = 1.0 / powers[:-1]
    for i in range(0, len(x), block):
        chunk = x[i:i + block]
        n = len(chunk)
        acc = np.cumsum(chunk * inverse[:n]) * powers[:n] * (1.0 - weight)
        out[i:i + n] = acc + powers[1:n + 1] * prev
        prev = out[i + n - 1]
    return out
