"""The data behind the live plots, apart from drawing them: batch losses with their moving average,
per-epoch scores and probe probabilities, the text read out under the cursor, and the rows of the
CSV export. Pure numpy, so the numbers can be tested without a window.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from lstm_desktop.ui.widgets.curve_buffers import GrowingBuffer, ema


class CurveStore:
    """Append-only series in epochs (x) with amortised O(1) appends."""

    def __init__(self, smoothing: float = 0.9) -> None:
        self.batches = GrowingBuffer(2, 4096)  # x, loss
        self.ema = GrowingBuffer(1, 4096)
        self.epochs = GrowingBuffer(5, 64)     # x, train_loss, val_loss, train_acc, val_acc
        self.probe = GrowingBuffer(11, 64)     # x, p0..p9
        self.smoothing = smoothing

    def clear(self) -> None:
        for buf in (self.batches, self.ema, self.epochs, self.probe):
            buf.clear()

    def append_batches(self, xs: np.ndarray, losses: np.ndarray) -> None:
        rows = np.column_stack([xs, losses])
        start = self.ema.view()[-1, 0] if len(self.ema) else None
        self.batches.extend(rows)
        self.ema.extend(ema(losses, self.smoothing, start)[:, None])

    def append_epoch(self, x: float, train_loss: float, val_loss: float, train_acc: float,
                     val_acc: float) -> None:
        self.epochs.extend(np.array([x, train_loss, val_loss, train_acc, val_acc]))

    def append_probe(self, x: float, probabilities: Sequence[float]) -> None:
        probs = np.zeros(10)
        values = np.asarray(probabilities, dtype=np.float64)[:10]
        probs[: len(values)] = values
        self.probe.extend(np.concatenate([[x], probs]))

    def set_smoothing(self, weight: float) -> None:
        """A new EMA weight: the smoothed curve is recomputed from the raw one."""
        self.smoothing = weight
        b = self.batches.view()
        self.ema.clear()
        if len(b):
            self.ema.extend(ema(b[:, 1], weight)[:, None])

    def add_history(self, history: dict) -> None:
        """A checkpoint's `history` dict: batch losses and per-epoch scores."""
        bx = np.asarray(history.get("batch_x") or [], dtype=np.float64)
        bl = np.asarray(history.get("batch_loss") or [], dtype=np.float64)
        n = min(len(bx), len(bl))
        if n:
            self.append_batches(bx[:n], bl[:n])
        epochs = history.get("epoch") or []
        cols = [history.get(k) or [] for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")]
        for i, e in enumerate(epochs):
            vals = [c[i] if i < len(c) else math.nan for c in cols]
            self.append_epoch(float(e), *vals)

    def counts(self) -> dict[str, int]:
        return {"batches": len(self.batches), "epochs": len(self.epochs), "probe": len(self.probe)}

    def readout_text(self, x: float) -> str:
        """What the curves say at epoch x (the crosshair's readout)."""
        parts = [f"epoch {x:.2f}"]
        b = self.batches.view()
        if len(b):
            i = int(np.clip(np.searchsorted(b[:, 0], x), 0, len(b) - 1))
            parts.append(f"batch loss {b[i, 1]:.4f} (smoothed {self.ema.view()[i, 0]:.4f})")
        e = self.epochs.view()
        if len(e):
            i = int(np.clip(np.argmin(np.abs(e[:, 0] - x)), 0, len(e) - 1))
            parts.append(f"epoch {int(e[i, 0])}: loss {e[i, 1]:.4f}/{e[i, 2]:.4f}, "
                         f"acc {e[i, 3] * 100:.2f}%/{e[i, 4] * 100:.2f}% (train/val)")
        p = self.probe.view()
        if len(p):
            i = int(np.clip(np.argmin(np.abs(p[:, 0] - x)), 0, len(p) - 1))
            top = int(np.argmax(p[i, 1:]))
            parts.append(f"probe: {top} ({p[i, 1 + top] * 100:.0f}%)")
        return "  ·  ".join(parts)

    def curve_rows(self) -> list[tuple[str, float, float]]:
        """Every curve as (curve, epoch, value) rows: the CSV export's content."""
        rows: list[tuple[str, float, float]] = []
        b = self.batches.view()
        rows += [("batch_loss", float(x), float(y)) for x, y in b]
        rows += [("batch_loss_smoothed", float(x), float(y)) for x, y in zip(b[:, 0], self.ema.view()[:, 0])]
        e = self.epochs.view()
        for col, name in ((1, "train_loss"), (2, "val_loss"), (3, "train_accuracy"), (4, "val_accuracy")):
            rows += [(name, float(x), float(y)) for x, y in zip(e[:, 0], e[:, col])]
        p = self.probe.view()
        for d in range(10):
            rows += [(f"probe_p{d}", float(x), float(y)) for x, y in zip(p[:, 0], p[:, 1 + d])]
        return rows
