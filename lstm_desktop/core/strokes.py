"""Pen strokes as vector data, their rasteriser, and synthetic handwriting for evaluation.

The drawing pad keeps what the user draws as `Stroke`s (a polyline + a pen width, in canvas units
on a CANVAS_SIZE x CANVAS_SIZE square) and renders them for the model with `StrokeRaster`, here:
the same code renders the synthetic digits of the stroke evaluation, so the evaluation sees
exactly what the pad would produce for the same pen movements.

Rendering: each segment is a capsule (a round-capped thick line) and a pixel's ink is
clip(radius + 0.5 - distance from its centre to the polyline, 0, 1): analytic anti-aliasing over
a one-pixel ramp. The ink of a union of capsules is the max of their inks, so rendering is
order-independent and incremental (segment by segment while drawing) rendering gives exactly the
same pixels as rendering whole strokes again after an undo.

Synthetic handwriting (`TEMPLATES`, `generate_digits`): several pen-trajectory styles per digit
(1 with and without a flag or a base, 4 open and closed, 7 with and without a bar, 9 with a
straight or a curved stem...), varied in pen width, size, aspect, slant, rotation, position,
wobble, jitter, stroke speed (how far apart the sampled points are, as a fast mouse gives) and
stroke misplacement between pen lifts. Qt-free and deterministic for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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


# -- synthetic handwriting -------------------------------------------------------------------
# Templates live in a box about 0.6 wide and 1.0 tall, (x right, y down), one list of pen
# trajectories (each an (N, 2) array) per style, in the order a person would draw them.

def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int | None = None) -> np.ndarray:
    """Ellipse arc from angle a0 to a1 in degrees (0 = right, 90 = up; increasing = anticlockwise
    on screen)."""
    n = n or max(8, int(abs(a1 - a0) / 6))
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy - ry * np.sin(t)], axis=1)


def _bezier(*ctrl: tuple[float, float], n: int = 24) -> np.ndarray:
    p = np.asarray(ctrl, dtype=np.float64)
    k = len(p) - 1
    t = np.linspace(0.0, 1.0, n)[:, None]
    out = np.zeros((n, 2))
    for i in range(k + 1):
        out += math.comb(k, i) * (t ** i) * ((1 - t) ** (k - i)) * p[i]
    return out


def _line(*pts: tuple[float, float], n: int = 10) -> np.ndarray:
    """A polyline through the points, each leg sampled with n points."""
    parts = []
    for p, q in zip(pts[:-1], pts[1:]):
        t = np.linspace(0.0, 1.0, n)[:, None]
        parts.append(np.asarray(p) * (1 - t) + np.asarray(q) * t)
    return _join(*parts)


def _join(*parts: np.ndarray) -> np.ndarray:
    out = [parts[0]]
    for p in parts[1:]:
        if np.allclose(out[-1][-1], p[0]):
            p = p[1:]
        out.append(p)
    return np.vstack(out)


def _eight(top: float = 1.0, bottom: float = 1.0, t0: float = 0.6, lean: float = 0.0) -> np.ndarray:
    """One-stroke figure eight crossing at mid-height; top/bottom scale the loops' widths."""
    t = np.linspace(t0, t0 + 2 * math.pi + 0.25, 90)
    x = np.sin(2 * t) * 0.27
    y = 0.5 - 0.5 * np.cos(t)
    x = np.where(y < 0.5, x * top, x * bottom) + 0.3 + lean * (0.5 - y)
    return np.stack([x, y], axis=1)


def _templates() -> dict[int, dict[str, list[np.ndarray]]]:
    T: dict[int, dict[str, list[np.ndarray]]] = {}
    T[0] = {
        "oval": [_arc(0.3, 0.5, 0.3, 0.5, 95, 95 + 370)],
        "clockwise-gap": [_arc(0.3, 0.5, 0.28, 0.5, 70, 70 - 345)],
        "narrow-overshoot": [_arc(0.3, 0.5, 0.2, 0.5, 100, 100 + 395)],
        "round": [_arc(0.3, 0.5, 0.36, 0.5, 90, 90 + 360)],
    }
    T[1] = {
        "stick": [_line((0.3, 0.0), (0.3, 1.0))],
        "flag": [_line((0.14, 0.2), (0.34, 0.0), (0.34, 1.0))],
        "flag-base": [_line((0.14, 0.2), (0.34, 0.0), (0.34, 1.0)), _line((0.12, 1.0), (0.56, 1.0))],
        "long-flag": [_line((0.05, 0.32), (0.38, 0.0), (0.33, 1.0))],
    }
    T[2] = {
        "classic": [_join(_arc(0.3, 0.27, 0.27, 0.25, 160, -35),
                          _line((0.3 + 0.27 * math.cos(math.radians(-35)), 0.27 + 0.25 * math.sin(math.radians(35))),
                                (0.02, 1.0), (0.62, 1.0)))],
        "loop": [_join(_arc(0.3, 0.27, 0.27, 0.25, 165, -30),
                       _bezier((0.53, 0.4), (0.35, 0.7), (0.05, 0.95), (0.0, 0.87), n=14),
                       _bezier((0.0, 0.87), (0.08, 0.72), (0.25, 1.02), (0.62, 0.98), n=14))],
        "swan": [_join(_bezier((0.03, 0.2), (0.15, -0.08), (0.62, -0.05), (0.52, 0.32), n=18),
                       _bezier((0.52, 0.32), (0.45, 0.55), (0.1, 0.8), (0.03, 0.98), n=14),
                       _line((0.03, 0.98), (0.6, 0.95)))],
    }
    T[3] = {
        "round": [_join(_arc(0.3, 0.26, 0.26, 0.24, 150, -90), _arc(0.3, 0.74, 0.3, 0.26, 90, -150))],
        "flat-top": [_join(_line((0.05, 0.0), (0.55, 0.0), (0.22, 0.4)),
                           _bezier((0.22, 0.4), (0.75, 0.35), (0.7, 1.05), (0.02, 0.9), n=20))],
        "pointed": [_join(_arc(0.3, 0.25, 0.25, 0.24, 160, -70),
                          _line((0.3 + 0.25 * math.cos(math.radians(-70)), 0.25 + 0.24 * math.sin(math.radians(70))),
                                (0.2, 0.49), n=4),
                          _arc(0.3, 0.74, 0.3, 0.26, 75, -155))],
    }
    T[4] = {
        "open": [_line((0.12, 0.0), (0.05, 0.62), (0.62, 0.62)), _line((0.46, 0.12), (0.46, 1.0))],
        "closed": [_line((0.46, 0.0), (0.02, 0.66), (0.62, 0.66)), _line((0.46, 0.0), (0.46, 1.0))],
        "crossed": [_line((0.3, 0.0), (0.0, 0.6), (0.62, 0.58)), _line((0.5, 0.25), (0.46, 1.0))],
    }
    T[5] = {
        "two-strokes": [_join(_line((0.1, 0.02), (0.07, 0.45), n=8), _arc(0.29, 0.69, 0.29, 0.29, 145, -145)),
                        _line((0.1, 0.02), (0.58, 0.0))],
        "one-stroke": [_join(_line((0.58, 0.0), (0.1, 0.02), (0.07, 0.45), n=8),
                             _arc(0.29, 0.69, 0.29, 0.29, 145, -145))],
        "flat-belly": [_join(_line((0.12, 0.02), (0.1, 0.42), n=8),
                             _bezier((0.1, 0.42), (0.8, 0.3), (0.7, 1.1), (0.0, 0.92), n=20)),
                       _line((0.12, 0.02), (0.6, 0.04))],
    }
    T[6] = {
        "curved": [_join(_bezier((0.52, 0.02), (0.2, 0.08), (0.02, 0.4), (0.04, 0.72), n=18),
                         _arc(0.31, 0.73, 0.27, 0.26, 180, 180 + 345))],
        "straight": [_join(_line((0.45, 0.0), (0.06, 0.68)), _arc(0.31, 0.74, 0.26, 0.25, 170, 170 + 350))],
        "small-loop": [_join(_bezier((0.55, 0.0), (0.15, 0.1), (0.0, 0.5), (0.1, 0.85), n=18),
                             _arc(0.3, 0.8, 0.2, 0.19, 215, 215 + 330))],
    }
    T[7] = {
        "plain": [_line((0.02, 0.02), (0.6, 0.02), (0.22, 1.0))],
        "bar": [_line((0.02, 0.02), (0.6, 0.02), (0.22, 1.0)), _line((0.17, 0.52), (0.56, 0.5))],
        "curved": [_join(_line((0.02, 0.05), (0.6, 0.02)), _bezier((0.6, 0.02), (0.45, 0.3), (0.3, 0.6), (0.28, 1.0)))],
        "hook": [_join(_line((0.0, 0.17), (0.03, 0.02), (0.6, 0.03)), _line((0.6, 0.03), (0.3, 1.0)))],
    }
    T[8] = {
        "one-stroke": [_eight()],
        "small-top": [_eight(top=0.75, bottom=1.1, t0=0.4)],
        "two-loops": [_arc(0.3, 0.25, 0.22, 0.24, 0, 360), _arc(0.3, 0.73, 0.28, 0.27, 90, 90 + 360)],
        "leaning": [_eight(top=0.85, lean=0.25, t0=0.9)],
    }
    T[9] = {
        "straight": [_join(_arc(0.3, 0.27, 0.27, 0.26, 10, 370), _line((0.57, 0.22), (0.55, 1.0)))],
        "curved": [_join(_arc(0.3, 0.27, 0.27, 0.26, 10, 370),
                         _bezier((0.57, 0.22), (0.6, 0.8), (0.4, 1.02), (0.12, 0.92), n=18))],
        "slanted-stem": [_join(_arc(0.33, 0.26, 0.25, 0.25, 20, 370), _line((0.57, 0.2), (0.32, 1.0)))],
        "small-loop": [_join(_arc(0.32, 0.22, 0.22, 0.2, 0, 360), _line((0.54, 0.22), (0.5, 1.0)))],
    }
    return T


TEMPLATES: dict[int, dict[str, list[np.ndarray]]] = _templates()


@dataclass(frozen=True)
class Variation:
    """How one synthetic digit was drawn (canvas units unless stated)."""

    pen_width: float
    height: float  # of the trajectory's box, before the pen width
    aspect: float  # width multiplier
    shear: float  # x += shear * (0.5 - y): positive leans right
    rotation: float  # degrees
    wobble: float  # amplitude of the slow deviation, as a fraction of the height
    jitter: float  # per-sample noise, canvas units
    step: float  # distance between pointer samples (stroke speed)
    misplace: float  # offset between strokes of one digit, fraction of the height


@dataclass(frozen=True, eq=False)
class SyntheticDigit:
    label: int
    style: str
    strokes: list[Stroke]
    variation: Variation
    tags: tuple[str, ...] = field(default=())  # variation buckets: thin, thick, small, large, slanted


def _smooth_noise(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """(n, 2) slow random deviation: two random sinusoids per axis along the stroke."""
    if amplitude <= 0 or n == 0:
        return np.zeros((n, 2))
    s = np.linspace(0.0, 1.0, n)[:, None]
    out = np.zeros((n, 2))
    for _ in range(2):
        freq = rng.uniform(0.5, 2.5, size=2)
        phase = rng.uniform(0, 2 * math.pi, size=2)
        out += np.sin(2 * math.pi * freq * s + phase) * rng.uniform(0.3, 1.0, size=2)
    return out * amplitude / 2


def _resample(path: np.ndarray, step: float, rng: np.random.Generator) -> np.ndarray:
    """Points every `step` units along the path (plus the end points), with a random phase and
    a little variation in spacing, like pointer events from a hand moving at some speed."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    total = float(seg.sum())
    if total < 1e-9:
        return path[:1].copy()
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    gaps = step * rng.uniform(0.6, 1.4, size=int(total / (step * 0.6)) + 2)
    d = np.cumsum(gaps) - gaps[0] * rng.uniform(0.0, 1.0)
    d = d[(d > 0) & (d < total)]
    d = np.concatenate([[0.0], d, [total]])
    x = np.interp(d, cum, path[:, 0])
    y = np.interp(d, cum, path[:, 1])
    return np.stack([x, y], axis=1)


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


def _record(points: np.ndarray, width: float) -> Stroke:
    builder = StrokeBuilder(width)
    for x, y in points[:-1]:
        builder.add(x, y)
    return builder.finish(*points[-1])


def sample_variation(rng: np.random.Generator, canvas: int = CANVAS_SIZE) -> Variation:
    """Plausible ranges for people drawing with a mouse, pen or finger on the pad."""
    return Variation(
        pen_width=float(np.exp(rng.uniform(math.log(7.0), math.log(40.0)))),
        height=float(rng.uniform(0.28, 0.86) * canvas),
        aspect=float(rng.uniform(0.7, 1.35)),
        shear=float(rng.uniform(-0.25, 0.5)),
        rotation=float(np.clip(rng.normal(0.0, 7.0), -18, 18)),
        wobble=float(rng.uniform(0.0, 0.05)),
        jitter=float(rng.uniform(0.0, 1.2)),
        step=float(np.exp(rng.uniform(math.log(1.5), math.log(16.0)))),
        misplace=float(rng.uniform(0.0, 0.06)),
    )


def model_stroke_width(v: Variation) -> float:
    """About how wide the strokes come out in the 28x28 model input (MNIST's are about 2.9 px):
    the longer side of the ink, pen included, is scaled to 20 px."""
    longest = max(v.height, 0.6 * v.aspect * v.height) + v.pen_width
    return v.pen_width * 20.0 / longest


def tags_for(v: Variation, canvas: int = CANVAS_SIZE) -> tuple[str, ...]:
    """Variation buckets: thin/thick by the stroke width the model gets (under 1.5 px, over
    4 px), small/large by the size on the pad, slanted (shear or rotation), fast (sparse points)."""
    tags = []
    w28 = model_stroke_width(v)
    if w28 < 1.5:
        tags.append("thin")
    elif w28 > 4.0:
        tags.append("thick")
    if v.height < 0.42 * canvas:
        tags.append("small")
    elif v.height > 0.72 * canvas:
        tags.append("large")
    if abs(v.shear) > 0.25 or abs(v.rotation) > 10:
        tags.append("slanted")
    if v.step > 8:
        tags.append("fast")
    return tuple(tags)


def synthesize(label: int, style: str, v: Variation, rng: np.random.Generator,
               canvas: int = CANVAS_SIZE) -> SyntheticDigit:
    """Draw template (label, style) with variation v at a random position on the canvas."""
    paths = TEMPLATES[label][style]
    rot = math.radians(v.rotation)
    c, s = math.cos(rot), math.sin(rot)
    placed = []
    for path in paths:
        p = np.asarray(path, dtype=np.float64).copy()
        p += rng.normal(0.0, v.misplace, size=2) if len(paths) > 1 else 0.0
        p += _smooth_noise(rng, len(p), v.wobble)
        p[:, 0] = (p[:, 0] - 0.3) * v.aspect + v.shear * (0.5 - p[:, 1])
        p[:, 1] = p[:, 1] - 0.5
        p = p @ np.array([[c, s], [-s, c]])  # rotate about the template's centre
        placed.append(p * v.height)
    allpts = np.vstack(placed)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    margin = v.pen_width / 2 + 2
    # anywhere on the canvas where it fits (if it cannot fit, centred and slightly cut)
    offset = np.empty(2)
    for k in range(2):
        lo_ok = margin - lo[k]
        hi_ok = canvas - margin - hi[k]
        offset[k] = rng.uniform(lo_ok, hi_ok) if hi_ok > lo_ok else (lo_ok + hi_ok) / 2
    strokes = []
    for p in placed:
        pts = _resample(p + offset, v.step, rng)
        if v.jitter > 0:
            pts = pts + rng.normal(0.0, v.jitter, size=pts.shape)
        pts = np.round(pts * 2) / 2  # pointer positions come in half units at most
        strokes.append(_record(pts, v.pen_width))
    return SyntheticDigit(label, style, strokes, v, tags_for(v, canvas))


def generate_digits(n: int, seed: int = 0, canvas: int = CANVAS_SIZE) -> list[SyntheticDigit]:
    """n synthetic digits, labels balanced (n/10 each, shuffled), styles uniform per digit."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    out = []
    for label in labels:
        styles = sorted(TEMPLATES[int(label)])
        style = styles[int(rng.integers(len(styles)))]
        out.append(synthesize(int(label), style, sample_variation(rng, canvas), rng, canvas))
    return out
