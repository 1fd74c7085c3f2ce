"""Strokes that are not digits, and how the pad tells them apart.

A softmax classifier is confident on anything: a horizontal dash reads as a confident 7. The pad
says "unsure" instead when the input is unlike every digit the model learned from, on features of
the drawing itself (so the rule holds for any model): too small, too much ink, strokes too thick
for its size (core.classify.input_doubt), and here: **flat** (a dash or a flat line: far wider than
tall; of MNIST's 60,000 training digits none is more than 2.5 times as wide as tall) and
**scribbled** (the pen's path is many times longer than a digit's for its size, or it reverses
direction again and again: a tangle, not a figure). Both are measured on the path smoothed over
SMOOTH_FRACTION of the drawing's size, so a shaky hand's tremor is not taken for a scribble (on
the hard synthetic set, shaky digits taken for scribbles fell from 44% to 6%, scribbles caught
from 93% to 90%: `python benchmarks/unsure_strokes.py`).

`generate_non_digits` draws dashes, dots and scribbles for the calibration that picks these
thresholds (benchmarks/unsure_strokes.py) and for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_desktop.core.drawing.strokes import CANVAS_SIZE, Stroke

MAX_FLATNESS = 2.6  # ink width / height above this: a dash (MNIST's widest of 60,000 digits: 2.5)
MAX_PATH_RATIO = 4.5  # smoothed pen path / the drawing's longer side above this: a scribble (digits: < 4.5)
MAX_SHARP_TURNS = 4  # this many reversals (> 110 degrees) or more: a zig-zag scribble (digits: <= 2)
# A path that looks scribbled but that the model reads at this confidence or more is a shaky digit: measured
# (synthetic, seeds 12 and 13) half the hard set's digits called scribbles reach it, 1 scribble in 55 does.
SHAKY_DIGIT_CONFIDENCE = 0.99
SMOOTH_FRACTION = 0.16  # the path is averaged over this share of the drawing's longer side first


@dataclass(frozen=True)
class NonDigit:
    kind: str  # "dash", "dot", "scribble"
    strokes: tuple[Stroke, ...]


def flatness(bbox: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = bbox
    return (x1 - x0) / max(1, (y1 - y0))


def path_ratio(strokes) -> float:
    """Total pen path over the drawing's longer side (a digit: about 1.5 to 5)."""
    pts = [s.points for s in strokes if len(s.points)]
    if not pts:
        return 0.0
    length = sum(float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) for p in pts)
    allp = np.concatenate(pts)
    side = float(max(np.ptp(allp[:, 0]), np.ptp(allp[:, 1]), 1.0))
    return length / side


def sharp_turns(strokes, step: float = 12.0, angle: float = 110.0) -> int:
    """How often the pen reverses (turns by more than `angle` degrees), on a path resampled every
    `step` canvas units so that a hand's jitter does not count."""
    n = 0
    for s in strokes:
        p = s.points
        if len(p) < 3:
            continue
        cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])
        if cum[-1] < 2 * step:
            continue
        t = np.arange(0.0, cum[-1], step)
        q = np.stack([np.interp(t, cum, p[:, 0]), np.interp(t, cum, p[:, 1])], 1)
        v = np.diff(q, axis=0)
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        n += int(((v[1:] * v[:-1]).sum(1) < np.cos(np.radians(angle))).sum())
    return n


def smooth_path(points: np.ndarray, window: float, spacing: float = 2.0) -> np.ndarray:
    """The path resampled every `spacing` units and averaged over `window` units of it: a hand's
    tremor and a mouse's jitter go, the figure's turns stay."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 3:
        return p
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])
    if cum[-1] < 2 * spacing:
        return p
    t = np.arange(0.0, cum[-1] + 1e-9, spacing)
    q = np.stack([np.interp(t, cum, p[:, 0]), np.interp(t, cum, p[:, 1])], 1)
    k = max(1, int(window / spacing))
    if len(q) <= k:
        return q[[0, -1]]
    padded = np.concatenate([np.repeat(q[:1], k // 2, 0), q, np.repeat(q[-1:], k - 1 - k // 2, 0)])
    kernel = np.ones(k) / k
    return np.stack([np.convolve(padded[:, i], kernel, "valid") for i in range(2)], 1)


def smoothed(strokes) -> list[Stroke]:
    """The strokes with `smooth_path` over SMOOTH_FRACTION of the drawing's longer side."""
    pts = [s.points for s in strokes if len(s.points)]
    if not pts:
        return []
    allp = np.concatenate(pts)
    window = max(8.0, SMOOTH_FRACTION * float(max(np.ptp(allp[:, 0]), np.ptp(allp[:, 1]))))
    return [Stroke(smooth_path(s.points, window), s.width) for s in strokes if len(s.points)]


def shape_doubt(bbox: tuple[int, int, int, int], strokes=None, confidence: float = 0.0) -> str | None:
    """'not a digit' for a flat dash or a scribble, else None (strokes: when drawn on the pad;
    confidence: the model's top probability, from SHAKY_DIGIT_CONFIDENCE up no scribble)."""
    if flatness(bbox) > MAX_FLATNESS:
        return "not a digit"
    if strokes and confidence < SHAKY_DIGIT_CONFIDENCE:
        calm = smoothed(strokes)
        if path_ratio(calm) > MAX_PATH_RATIO or sharp_turns(calm) >= MAX_SHARP_TURNS:
            return "not a digit"
    return None


def _line(p0, p1, n: int = 30) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return np.asarray(p0) * (1 - t) + np.asarray(p1) * t


def generate_non_digits(n: int, seed: int = 0, canvas: int = CANVAS_SIZE) -> list[NonDigit]:
    """n non-digits (a third each: dashes at small angles, dots and short ticks, scribbles), seeded."""
    rng = np.random.default_rng(seed)
    out: list[NonDigit] = []
    for i in range(n):
        kind = ("dash", "dot", "scribble")[i % 3]
        width = float(rng.uniform(12, 30))
        cx, cy = rng.uniform(0.3, 0.7, 2) * canvas
        if kind == "dash":
            length = rng.uniform(0.3, 0.8) * canvas
            angle = np.radians(rng.uniform(-12, 12))
            d = 0.5 * length * np.array([np.cos(angle), np.sin(angle)])
            pts = _line((cx - d[0], cy - d[1]), (cx + d[0], cy + d[1]))
            pts[:, 1] += rng.normal(0, 1.2, len(pts)).cumsum() * 0.3  # a hand's wobble
            strokes = (Stroke(pts, width),)
        elif kind == "dot":
            r = rng.uniform(1, 0.06 * canvas)
            a = rng.uniform(0, 2 * np.pi, 6)
            pts = np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1)
            strokes = (Stroke(pts, width),)
        else:
            size = rng.uniform(0.35, 0.8) * canvas
            turns = int(rng.integers(8, 20))
            pts = [(cx + rng.uniform(-0.5, 0.5) * size, cy + rng.uniform(-0.5, 0.5) * size) for _ in range(turns)]
            path = np.concatenate([_line(a, b, 12) for a, b in zip(pts[:-1], pts[1:])])
            path = np.clip(path, 2, canvas - 2)
            strokes = (Stroke(path, width),)
        out.append(NonDigit(kind, strokes))
    return out
