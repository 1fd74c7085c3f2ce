"""Per-batch loss and accuracy kept on the device and read back together, at the rate they are shown.

Why: `float(loss)` after every batch makes the host wait for the GPU, so the next batch cannot be
queued while this one runs; on a small recurrent model that wait costs more than the maths. On a
CPU the value is already there and every batch is read at once, exactly as before. On a GPU the
pending batches are read in one transfer a few times a second (and at the end of each epoch), which
is as often as a progress bar or a plot changes. The NaN check reads the same values, so a
non-finite loss is still reported with its batch; the engine then restores the last good epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
import time

import torch

GPU_READ_SECONDS = 0.1  # how often a GPU run's losses come back to the host


@dataclass(frozen=True)
class BatchValues:
    batch: int  # 0-based within the epoch
    loss: float
    accuracy: float
    lr: float


class BatchReadout:
    """Collects (loss, correct) device scalars per batch; `due` says when to `read` them."""

    def __init__(self, device: torch.device, every_seconds: float | None = None) -> None:
        self.every = (0.0 if device.type == "cpu" else GPU_READ_SECONDS) if every_seconds is None else every_seconds
        self._batches: list[tuple[int, int, float]] = []  # (batch, samples, lr)
        self._losses: list[torch.Tensor] = []
        self._corrects: list[torch.Tensor] = []
        self._last = time.perf_counter()

    def add(self, batch: int, loss: torch.Tensor, correct: torch.Tensor, samples: int, lr: float) -> None:
        self._batches.append((batch, samples, lr))
        self._losses.append(loss.reshape(()).float())
        self._corrects.append(correct.reshape(()).float())

    def due(self) -> bool:
        return bool(self._batches) and (self.every <= 0 or time.perf_counter() - self._last >= self.every)

    def read(self) -> list[BatchValues]:
        """The pending batches' values, in order (one device-to-host transfer); empties the queue."""
        if not self._batches:
            return []
        if len(self._losses) == 1:
            values = [[float(self._losses[0]), float(self._corrects[0])]]
        else:
            values = torch.stack([torch.stack(self._losses), torch.stack(self._corrects)], 1).tolist()
        out = [BatchValues(b, loss, correct / max(samples, 1), lr)
               for (b, samples, lr), (loss, correct) in zip(self._batches, values)]
        self._batches, self._losses, self._corrects = [], [], []
        self._last = time.perf_counter()
        return out
