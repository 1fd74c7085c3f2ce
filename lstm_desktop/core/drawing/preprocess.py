"""Any drawn or loaded image -> the 28x28 input the model expects, by MNIST's own recipe.

One function, `preprocess`, serves the drawing pad, image files and the command line:

1. to *ink*: grey levels in [0, 1] where 1 is full ink and 0 is background. Colour becomes
   luminance; transparency is honoured (a transparent background is background, whatever its
   colour); polarity (dark ink on light paper, or light on dark) is detected from the border's
   median brightness; the background level is subtracted and the contrast stretched, so grey
   paper or a faint pencil still give MNIST-like ink.
2. crop to the ink's bounding box;
3. scale the longer side to 20 px keeping grey levels (exact area resampling: every output pixel
   is the mean of the source area it covers), the shorter side centred in the 20x20 box; strokes
   thinner than a model pixel would average out to grey, so the result's peak is brought back to
   full ink (every MNIST digit has full-ink pixels);
4. place it in 28x28 and shift it (whole pixels, as MNIST did) so that its centre of mass lands on
   pixel (14, 14), the mean centre of mass of MNIST's training images; the shift never pushes ink
   off the frame;
5. normalise as in training: (x - mean) / std.

numpy in, numpy out: no Qt, no torch. `Preprocessed.image` is the de-normalised 28x28 picture,
exactly what the model sees, for previews.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from lstm_desktop.core.data.image_sets import MEAN, STD

SIZE = 28  # model input side
BOX = 20  # the longer side of the digit after scaling (MNIST)
TARGET_COM = (14.0, 14.0)  # (row, col): MNIST's mean centre of mass, measured on its training set
INK_THRESHOLD = 0.15  # ink level that counts for the bounding box (after contrast normalisation)
MIN_CONTRAST = 0.08  # below this difference between ink and background, the image is empty
WORKING_SIDE = 512  # a crop larger than this is first block-averaged down (bounded memory and time)
# MNIST's most heavily inked training image has a mean intensity of 0.344 (99.9th percentile
# 0.295): above this the input is not digit-like, whatever the classifier says.
MAX_MEAN_INK = 0.33
# Stroke width in model pixels (estimate below): MNIST's median is 2.5, its 99.5th percentile 5.1
# and 99.9th 5.9; wider strokes for the digit's size are outside what the model has seen.
MAX_STROKE_WIDTH = 5.5

Polarity = Literal["auto", "light-on-dark", "dark-on-light", "ink"]
POLARITIES = ("auto", "light-on-dark", "dark-on-light", "ink")


@dataclass(frozen=True, eq=False)
class Preprocessed:
    """The result of `preprocess`; arrays are read-only."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], 1 = ink: what the model sees, de-normalised
    model_input: np.ndarray  # (28, 28) float32, (image - mean) / std
    bbox: tuple[int, int, int, int]  # ink bounding box in the source: (x0, y0, x1, y1), x1/y1 exclusive
    scale: float  # source pixels -> model pixels
    shift: tuple[int, int]  # whole-pixel (rows, cols) shift applied to centre the mass
    center_of_mass: tuple[float, float]  # (row, col) of the 28x28 image
    inverted: bool  # True when the source was dark ink on a light background
    source_shape: tuple[int, int]  # (height, width)

    @property
    def extent(self) -> int:
        """Longer side of the ink's bounding box in source pixels."""
        x0, y0, x1, y1 = self.bbox
        return max(x1 - x0, y1 - y0)

    @property
    def mean_ink(self) -> float:
        return float(self.image.mean())

    @property
    def overinked(self) -> bool:
        """More ink than any MNIST digit: a scribble or a filled shape, not a digit."""
        return self.mean_ink > MAX_MEAN_INK

    @property
    def stroke_width(self) -> float:
        """Estimated stroke width in model pixels: twice the ink area over the perimeter."""
        return estimate_stroke_width(self.image)


def preprocess(image: np.ndarray, *, polarity: Polarity = "auto", mean: float = MEAN,
               std: float = STD) -> Preprocessed | None:
    """Image -> model input by MNIST's recipe, or None when there is no ink at all.

    image: (H, W) grey, (H, W, 2) grey+alpha, (H, W, 3) RGB or (H, W, 4) RGBA; uint8, uint16,
    bool or float in [0, 1]. polarity: "auto" detects it; "light-on-dark" / "dark-on-light"
    force it (background level and contrast are still normalised); "ink" means the array already
    holds ink coverage in [0, 1] on a zero background (the drawing pad) and is used as it is.
    """
    ink, inverted = to_ink(image, polarity)
    box = ink_bbox(ink)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    crop = ink[y0:y1, x0:x1]
    factor = 1
    longest = max(crop.shape)
    if longest > WORKING_SIDE:  # huge input: average whole blocks first (exact and cheap)
        factor = -(-longest // (WORKING_SIDE // 2))
        crop = _block_mean(crop, factor)
    h, w = crop.shape
    scale = BOX / max(h, w)
    # the long side fills the 20 px box exactly; the short side is centred in it
    off_y = (SIZE - BOX) / 2 + (BOX - h * scale) / 2
    off_x = (SIZE - BOX) / 2 + (BOX - w * scale) / 2
    placed = _area_resample(_area_resample(crop, 0, scale, off_y), 1, scale, off_x)
    placed = np.clip(placed, 0.0, 1.0).astype(np.float32)
    placed[placed < 1e-4] = 0.0  # rounding slivers at the box's edges
    peak = float(placed.max())
    if 0.0 < peak < 1.0:  # strokes thinner than a model pixel: keep MNIST's full-ink peak
        placed = np.clip(placed / np.float32(peak), 0.0, 1.0)
    dy, dx = _centering_shift(placed)
    out = _shift(placed, dy, dx)
    com = center_of_mass(out)
    out.setflags(write=False)
    model = to_model_input(out, mean, std)
    return Preprocessed(out, model, (int(x0), int(y0), int(x1), int(y1)), scale / factor, (dy, dx),
                        com, inverted, (int(ink.shape[0]), int(ink.shape[1])))


def to_model_input(image01: np.ndarray, mean: float = MEAN, std: float = STD) -> np.ndarray:
    """[0, 1] ink image -> the normalised array the model takes (read-only float32)."""
    x = ((np.asarray(image01, dtype=np.float32) - np.float32(mean)) / np.float32(std)).astype(np.float32)
    x.setflags(write=False)
    return x


def textbook_preprocess(image: np.ndarray, *, polarity: Polarity = "auto", mean: float = MEAN,
                        std: float = STD) -> np.ndarray:
    """The baseline most tutorials use: the whole canvas resized to 28x28 (area filter), no
    cropping, scaling or centring; same polarity handling. Returns the normalised model input."""
    ink, _ = to_ink(image, polarity)
    h, w = ink.shape
    if max(h, w) > WORKING_SIDE * 2:
        f = -(-max(h, w) // WORKING_SIDE)
        ink = _block_mean(ink, f)
        h, w = ink.shape
    small = _area_resample(_area_resample(ink, 0, SIZE / h, 0.0), 1, SIZE / w, 0.0)
    return to_model_input(np.clip(small, 0.0, 1.0), mean, std)


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, col) of the mass, in pixel indices; (nan, nan) for an empty image."""
    img = np.asarray(image, dtype=np.float64)
    total = img.sum()
    if total <= 0:
        return float("nan"), float("nan")
    rows = img.sum(axis=1)
    cols = img.sum(axis=0)
    return (float(rows @ np.arange(img.shape[0]) / total), float(cols @ np.arange(img.shape[1]) / total))


def estimate_stroke_width(image01: np.ndarray) -> float:
    """Stroke width of a [0, 1] ink image: 2 * area / perimeter, the perimeter measured as the
    total variation (an L1 length, scaled by pi/4 to the Euclidean length of curves in any
    direction). Exact for long strokes; within about 10% of the pen width for drawn digits."""
    img = np.asarray(image01, dtype=np.float64)
    area = img.sum()
    perimeter = (np.abs(np.diff(img, axis=0)).sum() + np.abs(np.diff(img, axis=1)).sum()) * (np.pi / 4)
    return float(2.0 * area / perimeter) if perimeter > 0 else 0.0


def to_ink(image: np.ndarray, polarity: Polarity = "auto") -> tuple[np.ndarray, bool]:
    """Any supported array -> (float32 ink in [0, 1] on a 0 background, was it inverted)."""
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {', '.join(POLARITIES)}, got {polarity!r}")
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ValueError(f"expected an (H, W) or (H, W, 2/3/4) image, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        return np.zeros((max(arr.shape[0], 1), max(arr.shape[1], 1)), np.float32), False
    values = _as_unit_float(arr)
    if polarity == "ink":
        grey = values if values.ndim == 2 else _luminance(values[..., :3] if values.shape[2] >= 3 else values[..., :1])
        if grey.dtype == np.float32 and 0.0 <= float(grey.min()) and float(grey.max()) <= 1.0:
            return grey, False  # already clean (the pad's raster): no copy
        return np.clip(np.nan_to_num(grey), 0.0, 1.0).astype(np.float32, copy=False), False

    alpha = None
    if values.ndim == 3:
        channels = values.shape[2]
        if channels in (2, 4):
            alpha = values[..., -1]
            grey = _luminance(values[..., :channels - 1])
        else:
            grey = _luminance(values)
    else:
        grey = values
    grey = np.nan_to_num(grey).astype(np.float32, copy=False)

    if alpha is not None and float(alpha.min()) < 0.98:
        ring_alpha = _border(alpha)
        if float(np.median(ring_alpha)) < 0.5:
            # transparent background: what is opaque is the ink, whatever its colour
            return _normalise_contrast(alpha.astype(np.float32, copy=False)), False
        # opaque background with some transparent pixels: composite over the background colour
        opaque = ring_alpha >= 0.5
        bg = float(np.median(_border(grey)[opaque])) if opaque.any() else 1.0
        grey = grey * alpha + bg * (1.0 - alpha)

    if polarity == "auto":
        inverted = _looks_dark_on_light(grey)
    else:
        inverted = polarity == "dark-on-light"
    ink = 1.0 - grey if inverted else grey
    return _normalise_contrast(ink.astype(np.float32, copy=False)), inverted


def ink_bbox(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels at or above threshold (exclusive ends), or None."""
    mask = ink >= threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0]:rows[-1] + 1].any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


# -- helpers ---------------------------------------------------------------------------------

def _as_unit_float(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) * np.float32(1 / 255)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) * np.float32(1 / 65535)
    if np.issubdtype(arr.dtype, np.integer):
        hi = float(arr.max()) if arr.size else 1.0
        return arr.astype(np.float32) / np.float32(255.0 if hi <= 255 else max(hi, 1.0))
    out = arr.astype(np.float32, copy=False)
    return out


def _luminance(rgb: np.ndarray) -> np.ndarray:
    if rgb.shape[-1] == 1:
        return rgb[..., 0]
    return (rgb[..., 0] * np.float32(0.299) + rgb[..., 1] * np.float32(0.587)
            + rgb[..., 2] * np.float32(0.114))


def _border(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    k = max(1, int(round(0.02 * min(h, w))))
    if 2 * k >= min(h, w):
        return a.reshape(-1)
    return np.concatenate([a[:k].ravel(), a[-k:].ravel(), a[k:-k, :k].ravel(), a[k:-k, -k:].ravel()])


def _looks_dark_on_light(grey: np.ndarray) -> bool:
    """The background is what the border mostly shows; if that is ambiguous, what the image mostly
    shows (ink covers a minority of any digit image)."""
    bg = float(np.median(_border(grey)))
    if 0.35 < bg < 0.65:
        bg = float(np.median(grey if grey.size <= 1_000_000 else grey[::4, ::4]))
    return bg > 0.5


def _normalise_contrast(ink: np.ndarray) -> np.ndarray:
    """Subtract the background level (with a margin for noise) and stretch the ink to reach 1."""
    ring = _border(ink)
    bg = float(np.median(ring))
    noise = float(np.median(np.abs(ring - bg))) * 3.0
    floor = min(bg + noise, bg + 0.25)
    top = float(ink.max())
    if top - bg < MIN_CONTRAST:
        return np.zeros_like(ink)
    strong = ink[ink >= floor + 0.5 * (top - floor)] if top > floor else ink[ink >= top]
    peak = float(np.quantile(strong, 0.9)) if strong.size > 20 else top
    if peak - floor < MIN_CONTRAST:
        peak = top
    if floor <= 0.0 and peak >= 1.0:
        return np.clip(ink, 0.0, 1.0)
    return np.clip((ink - np.float32(floor)) / np.float32(max(peak - floor, 1e-6)), 0.0, 1.0)


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Mean over f x f blocks (the last partial blocks are zero-padded: background)."""
    h, w = a.shape
    H, W = -(-h // f), -(-w // f)
    if (H * f, W * f) != (h, w):
        padded = np.zeros((H * f, W * f), np.float32)
        padded[:h, :w] = a
        a = padded
    return (a.reshape(H, f, W, f).sum(axis=3, dtype=np.float32).sum(axis=1) / np.float32(f * f))


def _area_resample(a: np.ndarray, axis: int, scale: float, offset: float, n_out: int = SIZE) -> np.ndarray:
    """Exact area resampling along one axis. Source pixel k covers [offset + k*scale,
    offset + (k+1)*scale) in output units, output pixel j is the mean of what covers [j, j+1)
    (zero outside the source): mass-preserving for down- and up-scaling. Done with a cumulative
    sum and interpolation (no BLAS: small matrix products there start thread pools)."""
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, 0)
    n = a.shape[0]
    cum = np.zeros((n + 1,) + a.shape[1:], dtype=np.float64)
    np.cumsum(a, axis=0, out=cum[1:])
    # output pixel edges j and j+1 in source units, clipped to the source
    edges = np.clip((np.arange(n_out + 1, dtype=np.float64) - offset) / scale, 0.0, float(n))
    k = np.minimum(np.floor(edges).astype(np.intp), n - 1)
    frac = (edges - k).reshape((-1,) + (1,) * (a.ndim - 1))
    integral = cum[k] + frac * (cum[k + 1] - cum[k])  # integral of the source up to each edge
    out = (integral[1:] - integral[:-1]) * scale  # / (output pixel length in source units)
    return np.moveaxis(out, 0, axis).astype(np.float32)


def _centering_shift(img: np.ndarray) -> tuple[int, int]:
    """Whole-pixel shift bringing the centre of mass to TARGET_COM, limited so no ink leaves."""
    cy, cx = center_of_mass(img)
    dy = int(round(TARGET_COM[0] - cy))
    dx = int(round(TARGET_COM[1] - cx))
    rows = np.flatnonzero(img.any(axis=1))
    cols = np.flatnonzero(img.any(axis=0))
    dy = min(max(dy, -int(rows[0])), SIZE - 1 - int(rows[-1]))
    dx = min(max(dx, -int(cols[0])), SIZE - 1 - int(cols[-1]))
    return dy, dx


def _shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(img)
    h, w = img.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        img[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out
