"""Synthetic pen-stroke digits, drawn and preprocessed the way the drawing pad does it, for training.

MNIST was written on paper forms and scanned: its strokes taper and blur, and its writers rarely
put a flag on a 1, a crossbar on a 7 or an open top on a 4. The pad draws uniform strokes at any
pen width, and real writers draw all of those shapes. `TrainConfig.pen_digits` adds this many
digits from the pen-trajectory templates (`digit_templates`, every style) with the hands of
`synthetic_digits` (two in three everyday, one in three from the hard ranges: hairline to marker
pens, tiny to huge, strong slants, shaky), rendered by the pad's own renderer and `preprocess`.
Adaptation replays the same kind of digits so as not to forget the other styles.

The training stream has its own seed space, so the stroke evaluation's digits
(`benchmarks/stroke_eval.py`, `generate_digits`) are never the ones trained on; the templates are
shared, so `benchmarks/pen_styles_holdout.py` measures what training does for styles it never saw.
A set is generated once (about 1 ms a digit) and kept in `cache/` of the app's home folder.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch

from lstm_desktop.core.data.digit_templates import ALL_TEMPLATES, Template
from lstm_desktop.core.data.image_sets import DataBundle, normalize
from lstm_desktop.core.data.synthetic_digits import sample_hard_variation, sample_variation, synthesize
from lstm_desktop.core.drawing.preprocess import preprocess
from lstm_desktop.core.drawing.strokes import CANVAS_SIZE, render_strokes
from lstm_desktop.core.errors import DataError
from lstm_desktop.core.training.events import DataProgress

Progress = Callable[[DataProgress], None]

VERSION = 1  # bump when the hands or the renderer change what a seed draws (the templates are in the key)
TRAIN_STREAM = 31_337  # the training digits' seed stream (the adaptation replay uses its own)
SMALL_CANVAS = 112  # drawn small with the pen scaled to match: alike at 28x28, ~6x cheaper than 280
REPORT_EVERY = 500  # digits between progress events (about half a second)


def render_pen_digits(n: int, rng: np.random.Generator, hard_share: float = 0.0,
                      templates: Mapping[int, Mapping[str, Template]] = ALL_TEMPLATES,
                      canvas: int = SMALL_CANVAS, progress: Progress | None = None,
                      should_stop: Callable[[], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """n digits (labels 0-9 in turn, a style drawn uniformly per digit) as (n, 28, 28) float32
    images in [0, 1], ink bright like MNIST, and int64 labels. hard_share: the share drawn by the
    hard hands. A drawing that preprocess finds empty stays black. should_stop: polled between
    digits; True stops with a DataError."""
    f = canvas / CANVAS_SIZE
    labels = np.arange(n) % 10
    images = np.zeros((n, 28, 28), np.float32)
    for i, label in enumerate(labels):
        if i % REPORT_EVERY == 0:
            if should_stop is not None and should_stop():
                raise DataError("Stopped while drawing the pen digits.",
                                "Train again when you are ready; they are drawn from the start.")
            if progress is not None:
                progress(DataProgress("pen digits", i, n))
        styles = sorted(templates[int(label)])
        style = styles[int(rng.integers(len(styles)))]
        v = (sample_hard_variation if hard_share and rng.random() < hard_share else sample_variation)(rng, canvas)
        v = replace(v, pen_width=v.pen_width * f, jitter=v.jitter * f, tremor=v.tremor * f,
                    step=max(v.step * f, 0.8))
        pre = preprocess(render_strokes(synthesize(int(label), style, v, rng, canvas).strokes, canvas),
                         polarity="ink")
        if pre is not None:
            images[i] = pre.image
    if progress is not None:
        progress(DataProgress("pen digits", n, n))
    return images, labels.astype(np.int64)


def training_pen_digits(n: int, seed: int, cache_dir: Path | None = None, progress: Progress | None = None,
                        should_stop: Callable[[], bool] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The n pen digits a run with this seed trains on: (n, 28, 28) uint8 and int64 labels, from
    the cache when a previous run made them (a damaged or foreign cache file is simply redrawn)."""
    key = hashlib.sha256(f"pen-digits v{VERSION} n={n} seed={seed} {_templates_digest()}".encode()).hexdigest()[:16]
    path = (cache_dir or _cache_dir()) / f"pen-digits-{key}.npz"
    cached = _read(path, n)
    if cached is not None:
        return cached
    images, labels = render_pen_digits(n, np.random.default_rng([seed, TRAIN_STREAM]), hard_share=1 / 3,
                                       progress=progress, should_stop=should_stop)
    u8 = np.round(images * 255.0).astype(np.uint8)
    _write(path, u8, labels)
    return torch.from_numpy(u8), torch.from_numpy(labels)


def with_pen_digits(data: DataBundle, n: int, seed: int, cache_dir: Path | None = None,
                    progress: Progress | None = None, should_stop: Callable[[], bool] | None = None) -> DataBundle:
    """The bundle with n pen digits added to its training images (validation and test unchanged,
    so their figures stay MNIST's)."""
    if n <= 0:
        return data
    x, y = training_pen_digits(n, seed, cache_dir, progress, should_stop)
    return with_training_images(data, x.float() / 255.0, y)


def with_training_images(data: DataBundle, images01: torch.Tensor, labels: torch.Tensor) -> DataBundle:
    """The bundle with (N, 28, 28) [0, 1] images and their labels added to its training set."""
    return replace(data, train_x=torch.cat([data.train_x, normalize(images01)]),
                   train_y=torch.cat([data.train_y, labels.long()]))


def _templates_digest() -> str:
    """Changes whenever a template's points do, so an edited template never reads an old cache."""
    h = hashlib.sha256()
    for label in sorted(ALL_TEMPLATES):
        for style in sorted(ALL_TEMPLATES[label]):
            h.update(f"{label}/{style}".encode())
            for part in ALL_TEMPLATES[label][style]:
                h.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def _cache_dir() -> Path:
    """Beside the run store (so $LSTM_DESKTOP_HOME moves it too): a second profile or a test never
    shares it."""
    from lstm_desktop.core.files.paths import home_dir

    return home_dir() / "cache"


def _read(path: Path, n: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    try:
        with np.load(path, allow_pickle=False) as f:
            images, labels = f["images"], f["labels"]
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if images.shape != (n, 28, 28) or images.dtype != np.uint8 or labels.shape != (n,):
        return None
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def _write(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Best effort: a cache that cannot be written only means drawing them again next time."""
    from lstm_desktop.core.files.atomic import atomic_write

    buf = io.BytesIO()
    np.savez_compressed(buf, images=images, labels=labels)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as out:
            out.write(buf.getvalue())
    except OSError:
        pass
