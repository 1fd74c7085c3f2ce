"""How the run store keeps curves: float64 BLOB chunks of `width` values per point.

A plain curve has width 1; a probe point is (epoch, 10 probabilities) and a gradient-flow point
(progress, T norms). Decoding never lets one bad chunk (a blob whose length is not a whole number
of points) hide the rest: it is skipped and named in the notes.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

GRID_CURVES = {"probe", "gradient_flow"}  # points of (x, [values]); every other curve is plain floats

Chunk = tuple[str, int, np.ndarray]  # (name, width, flat float64 values)


def encode(chunk: dict[str, Any]) -> list[Chunk]:
    """The chunks to append for {"batch_loss": [...], "probe": [(x, [p0..p9]), ...], ...}.

    A grid curve whose points differ in width is split into one chunk per point (each is rectangular).
    """
    out: list[Chunk] = []
    for name, values in chunk.items():
        if values is None or len(values) == 0:
            continue
        if name in GRID_CURVES:
            rows = [[float(x), *map(float, v)] for x, v in values]
            width = len(rows[0])
            if any(len(r) != width for r in rows):
                out.extend((name, len(r), np.asarray(r, dtype=np.float64)) for r in rows)
                continue
            out.append((name, width, np.asarray(rows, dtype=np.float64).reshape(-1)))
        else:
            out.append((name, 1, np.asarray(values, dtype=np.float64).reshape(-1)))
    return out


def from_history(history: dict[str, Any], epochs: int) -> dict[str, Any]:
    """A checkpoint's history as a chunk to append: its `gradient_flow` is the last flow only (a
    plain list of norms), stored as one point at the last epoch; anything not numeric is left out."""
    chunk: dict[str, Any] = {}
    for name, values in (history or {}).items():
        if not isinstance(values, (list, tuple)) or not values:
            continue
        try:
            if name in GRID_CURVES:
                if all(isinstance(v, (int, float)) for v in values):
                    chunk[name] = [(float(epochs), [float(v) for v in values])]
                else:
                    chunk[name] = [(float(x), [float(v) for v in p]) for x, p in values]
            else:
                chunk[name] = [float(v) for v in values]
        except (TypeError, ValueError):
            continue
    return chunk


def decode(rows: Iterable[tuple[str, int, bytes]]) -> tuple[dict[str, Any], list[str]]:
    """{"batch_loss": [...], ..., "probe": [(x, [p..])], "gradient_flow": [(progress, [norms])]} from
    (name, width, blob) rows in order, and a note for each chunk that had to be skipped."""
    parts: dict[str, list[np.ndarray]] = {}
    notes: list[str] = []
    for name, width, data in rows:
        try:
            width = int(width)
            raw = bytes(data)
            if width < 1 or len(raw) % (8 * width):
                raise ValueError(f"{len(raw)} bytes is not a whole number of {width}-value points")
            parts.setdefault(name, []).append(np.frombuffer(raw, dtype=np.float64).reshape(-1, width))
        except (TypeError, ValueError) as exc:
            notes.append(f"a damaged chunk of the curve {name!r} was skipped ({exc})")
    out: dict[str, Any] = {"probe": [], "gradient_flow": []}
    for name, chunks in parts.items():
        if name in GRID_CURVES:
            out[name] = [(float(r[0]), r[1:].tolist()) for c in chunks for r in c]
        else:
            out[name] = np.concatenate([c.reshape(-1) for c in chunks]).tolist()
    return out, notes
