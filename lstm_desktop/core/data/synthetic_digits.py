"""Synthetic handwriting: digits drawn from pen-trajectory templates with human-like variation.

Used by the stroke evaluation, the tests and the adaptation benchmark. Each digit is a template
(`digit_templates`) varied in pen width, size, aspect, slant, rotation, position, wobble, jitter,
stroke speed (how far apart the sampled points are, as a fast mouse gives) and stroke misplacement
between pen lifts, then recorded with the pad's own `StrokeBuilder`, so it is what the pad would
produce for the same pointer samples. A `SyntheticWriter` is one person: a fixed style per digit
and a fixed hand (pen, size, slant, speed), with small changes from one drawing to the next.
Qt-free and deterministic for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from lstm_desktop.core.data.digit_templates import ALL_TEMPLATES, CLASSIC, TEMPLATE_SETS
from lstm_desktop.core.drawing.strokes import CANVAS_SIZE, Stroke, StrokeBuilder

TEMPLATES = CLASSIC  # the classic styles (the evaluation's original set); see digit_templates


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
    tremor: float = 0.0  # a shaky hand: fast wavering across the stroke, canvas units
    reverse: bool = False  # strokes drawn in the other order, each from its other end


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


def sample_hard_variation(rng: np.random.Generator, canvas: int = CANVAS_SIZE) -> Variation:
    """Wider than `sample_variation`, for the harder evaluation: pens from hairline to marker, tiny
    and huge digits, strong slants, fast strokes, shaky hands and reversed stroke order."""
    shaky = rng.random() < 0.3
    return Variation(
        pen_width=float(np.exp(rng.uniform(math.log(4.0), math.log(55.0)))),
        height=float(rng.uniform(0.2, 0.95) * canvas),
        aspect=float(rng.uniform(0.55, 1.5)),
        shear=float(rng.uniform(-0.45, 0.7)),
        rotation=float(np.clip(rng.normal(0.0, 11.0), -25, 25)),
        wobble=float(rng.uniform(0.0, 0.09)),
        jitter=float(rng.uniform(0.5, 3.5) if shaky else rng.uniform(0.0, 1.5)),
        step=float(np.exp(rng.uniform(math.log(1.2), math.log(28.0)))),
        misplace=float(rng.uniform(0.0, 0.1)),
        tremor=float(rng.uniform(1.5, 5.0)) if shaky else 0.0,
        reverse=bool(rng.random() < 0.3),
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
    if v.tremor > 0 or v.jitter > 2.0:
        tags.append("shaky")
    if v.reverse:
        tags.append("reversed")
    return tuple(tags)


def synthesize(label: int, style: str, v: Variation, rng: np.random.Generator,
               canvas: int = CANVAS_SIZE) -> SyntheticDigit:
    """Draw template (label, style) with variation v at a random position on the canvas."""
    paths = ALL_TEMPLATES[label][style]
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
        if v.tremor > 0:  # a hand trembling at about one wave per 10 units of path
            t = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
            phase = rng.uniform(0, 2 * math.pi, size=2)
            pts = pts + v.tremor * np.sin(2 * math.pi * t[:, None] / rng.uniform(7.0, 14.0) + phase)
        if v.jitter > 0:
            pts = pts + rng.normal(0.0, v.jitter, size=pts.shape)
        pts = np.round(pts * 2) / 2  # pointer positions come in half units at most
        strokes.append(_record(pts[::-1] if v.reverse else pts, v.pen_width))
    if v.reverse:
        strokes.reverse()
    return SyntheticDigit(label, style, strokes, v, tags_for(v, canvas))


def generate_digits(n: int, seed: int = 0, canvas: int = CANVAS_SIZE,
                    templates: str = "classic", hard: bool = False) -> list[SyntheticDigit]:
    """n synthetic digits, labels balanced (n/10 each, shuffled), styles uniform per digit.

    templates: "classic" (the original styles), "failure" (the shapes real writers produce that
    the model misread; digits without any use their classic styles) or "all" (both). hard: the
    hands of `sample_hard_variation` (the default ones are unchanged, so old figures still hold)."""
    vary = sample_hard_variation if hard else sample_variation
    if templates not in TEMPLATE_SETS:
        raise ValueError(f"templates must be one of {', '.join(TEMPLATE_SETS)}, not {templates!r}")
    chosen = TEMPLATE_SETS[templates]
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    out = []
    for label in labels:
        styles = sorted(chosen.get(int(label)) or CLASSIC[int(label)])
        style = styles[int(rng.integers(len(styles)))]
        out.append(synthesize(int(label), style, vary(rng, canvas), rng, canvas))
    return out


@dataclass(frozen=True)
class SyntheticWriter:
    """One person's hand: a style per digit and a base variation; each drawing varies a little."""

    seed: int
    styles: dict[int, str]
    hand: Variation

    def draw(self, label: int, rng: np.random.Generator, canvas: int = CANVAS_SIZE) -> SyntheticDigit:
        h = self.hand
        v = replace(h, height=float(np.clip(h.height * rng.uniform(0.88, 1.12), 0.25 * canvas, 0.9 * canvas)),
                    aspect=h.aspect * float(rng.uniform(0.93, 1.07)),
                    shear=h.shear + float(rng.normal(0.0, 0.04)),
                    rotation=h.rotation + float(rng.normal(0.0, 2.0)),
                    step=h.step * float(rng.uniform(0.8, 1.25)))
        return synthesize(label, self.styles[label], v, rng, canvas)

    def digits(self, per_digit: int, seed: int = 0, canvas: int = CANVAS_SIZE) -> list[SyntheticDigit]:
        """per_digit drawings of each digit, in label order (0, 0, ..., 1, 1, ...)."""
        rng = np.random.default_rng([self.seed, seed])
        return [self.draw(k, rng, canvas) for k in range(10) for _ in range(per_digit)]


def make_writer(seed: int, failure_share: float = 0.5, canvas: int = CANVAS_SIZE, hard: bool = False) -> SyntheticWriter:
    """A writer whose style for each digit that has failure shapes is one of them with probability
    failure_share (else a classic style), with a hand drawn from the evaluation's ranges (hard: from
    `sample_hard_variation`'s; the same seed gives the same styles either way)."""
    rng = np.random.default_rng([seed, 14])
    styles = {}
    for k in range(10):
        failure = TEMPLATE_SETS["failure"].get(k)
        pool = failure if failure and rng.random() < failure_share else CLASSIC[k]
        names = sorted(pool)
        styles[k] = names[int(rng.integers(len(names)))]
    hand = replace((sample_hard_variation if hard else sample_variation)(rng, canvas),
                   wobble=float(rng.uniform(0.0, 0.06 if hard else 0.03)))
    return SyntheticWriter(seed, styles, hand)
