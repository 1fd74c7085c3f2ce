"""Pen strokes as vector data and their rasteriser: what the drawing pad records and renders.

The drawing pad keeps what the user draws as `Stroke`s (a polyline + a pen width, in canvas units
on a CANVAS_SIZE x CANVAS_SIZE square), collects pointer samples with `StrokeBuilder` and renders
them for the model with `StrokeRaster`, here: the synthetic handwriting of the stroke evaluation
(`synthetic_digits`) is recorded and rendered by the same code, so the evaluation sees exactly
what the pad would produce for the same pen movements.

Rendering: each segment is a capsule (a round-capped thick line) and a pixel's ink is
clip(radius + 0.5 - distance from its centre to the polyline, 0, 1): analytic anti-aliasing over
a one-pixel ramp. The ink of a union of capsules is the max of their inks, so rendering is
order-independent and incremental (segment by segment while drawing) rendering gives exactly the
same pixels as rendering whole strokes again after an undo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

CANVAS_SIZE = 280  # the pad's canvas, in canvas units (rendered 1 unit = 1 pixel for the model)
PEN_MIN = 4.0
PEN_MAX = 48.0
PEN_DEFAULT = 24.0  # ~2.5 px in the model input for a digit drawn 2/3 of the pad high (MNIST: ~2.9)
MIN_POINT_DISTANCE = 0.75  # the pad drops pointer samples closer than this to the previous one

_CHUNK_BUDGET = 60_000  # pixels x segments evaluated per vectorised chunk


@dataclass(frozen=True, eq=False)
class Stroke:
    """One pen-down-to-pen-up trajectory: points (N, 2) as (x, y) canvas units, and a pen width."""

    points: np.ndarray
    width: float

    def __post_init__(self) -> None:
        pts = np.array(self.points, dtype=np.float64).reshape(-1, 2)
        pts.setflags(write=False)
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "width", float(self.width))

    def __len__(self) -> int:
        return len(self.points)

    def bounds(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) including the pen's radius."""
        r = self.width / 2
        lo = self.points.min(axis=0)
        hi = self.points.max(axis=0)
        return float(lo[0] - r), float(lo[1] - r), float(hi[0] + r), float(hi[1] + r)

    def to_dict(self) -> dict:
        return {"width": self.width, "points": self.points.round(3).tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "Stroke":
        return cls(np.asarray(data["points"], dtype=np.float64), float(data["width"]))


class StrokeRaster:
    """A float32 ink canvas (1 = ink, 0 = paper) that strokes are rendered into, incrementally.

    `image` is the live array (do not write to it; copy it to keep it).
    """

    def __init__(self, size: int | tuple[int, int] = CANVAS_SIZE) -> None:
        h, w = (size, size) if isinstance(size, int) else size
        self.image = np.zeros((int(h), int(w)), dtype=np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape  # type: ignore[return-value]

    def clear(self) -> None:
        self.image.fill(0.0)

    def render(self, strokes: Iterable[Stroke]) -> np.ndarray:
        """Clear and draw all strokes; returns the live image."""
        self.clear()
        for s in strokes:
            self.add_stroke(s)
        return self.image

    def add_stroke(self, stroke: Stroke) -> None:
        self.add_polyline(stroke.points, stroke.width)

    def add_polyline(self, points: np.ndarray | Sequence[Sequence[float]], width: float) -> None:
        """Draw a polyline (one point draws a dot) with round caps and joins."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0 or width <= 0:
            return
        if len(pts) == 1:
            pts = np.vstack([pts, pts])
        a, b = pts[:-1], pts[1:]
        r = width / 2.0
        pad = r + 1.0
        lo = np.minimum(a, b) - pad
        hi = np.maximum(a, b) + pad
        h, w = self.image.shape
        # group consecutive segments into chunks whose joint box keeps the work bounded
        start = 0
        n = len(a)
        while start < n:
            end = start + 1
            bx0, by0 = lo[start]
            bx1, by1 = hi[start]
            while end < n:
                nx0 = min(bx0, lo[end, 0]); ny0 = min(by0, lo[end, 1])  # noqa: E702
                nx1 = max(bx1, hi[end, 0]); ny1 = max(by1, hi[end, 1])  # noqa: E702
                if (nx1 - nx0) * (ny1 - ny0) * (end - start + 1) > _CHUNK_BUDGET:
                    break
                bx0, by0, bx1, by1 = nx0, ny0, nx1, ny1
                end += 1
            self._draw_chunk(a[start:end], b[start:end], r, bx0, by0, bx1, by1, h, w)
            start = end

    def _draw_chunk(self, a: np.ndarray, b: np.ndarray, r: float, bx0: float, by0: float,
                    bx1: float, by1: float, h: int, w: int) -> None:
        x0 = max(int(math.floor(bx0)), 0)
        y0 = max(int(math.floor(by0)), 0)
        x1 = min(int(math.ceil(bx1)), w)
        y1 = min(int(math.ceil(by1)), h)
        if x0 >= x1 or y0 >= y1:
            return
        f = np.float32
        xs = np.arange(x0, x1, dtype=f) + f(0.5)
        ys = np.arange(y0, y1, dtype=f) + f(0.5)
        a = a.astype(f)
        b = b.astype(f)
        ax = a[:, 0][:, None, None]
        ay = a[:, 1][:, None, None]
        dx = (b[:, 0] - a[:, 0])[:, None, None]
        dy = (b[:, 1] - a[:, 1])[:, None, None]
        len2 = dx * dx + dy * dy
        px = xs[None, None, :] - ax  # (k, 1, W)
        py = ys[None, :, None] - ay  # (k, H, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (px * dx + py * dy) / np.where(len2 > 0, len2, f(1.0))
        np.clip(t, f(0.0), f(1.0), out=t)
        ex = px - t * dx
        ey = py - t * dy
        d2 = (ex * ex + ey * ey).min(axis=0)
        cov = np.clip(f(r + 0.5) - np.sqrt(d2), f(0.0), f(1.0))
        region = self.image[y0:y1, x0:x1]
        np.maximum(region, cov, out=region)


def render_strokes(strokes: Iterable[Stroke], size: int | tuple[int, int] = CANVAS_SIZE) -> np.ndarray:
    """Strokes -> a new float32 ink image (what the pad hands to preprocessing)."""
    raster = StrokeRaster(size)
    raster.render(strokes)
    return raster.image


class StrokeBuilder:
    """Collects pointer samples into a Stroke the way the pad does: a sample closer than
    min_distance to the last kept point is skipped, except the pen-up point, which is always kept
    unless it repeats the last point exactly. The synthetic generator uses the same class, so its
    strokes are what the pad would record for the same pointer samples."""

    def __init__(self, width: float, min_distance: float = MIN_POINT_DISTANCE) -> None:
        self.width = float(width)
        self.min_distance = float(min_distance)
        self._points: list[tuple[float, float]] = []

    @property
    def points(self) -> list[tuple[float, float]]:
        return self._points

    def add(self, x: float, y: float) -> bool:
        """Add a sample; True when it was kept (a new segment to draw)."""
        if self._points:
            lx, ly = self._points[-1]
            if math.hypot(x - lx, y - ly) < self.min_distance:
                return False
        self._points.append((float(x), float(y)))
        return True

    def finish(self, x: float | None = None, y: float | None = None) -> Stroke:
        """The stroke, with the pen-up point (x, y) if given."""
        if x is not None and y is not None and (not self._points or self._points[-1] != (float(x), float(y))):
            self._points.append((float(x), float(y)))
        return Stroke(np.asarray(self._points, dtype=np.float64).reshape(-1, 2), self.width)
