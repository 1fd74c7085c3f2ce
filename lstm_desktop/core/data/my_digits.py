"""The user's own drawings on disk, as `DIR/<digit>/*.png` (torchvision's ImageFolder layout).

The app's "My digits" saves each corrected drawing here and `lstm-desktop adapt DIR` reads the
same layout, so a folder exported from the app, or made by hand, is what adaptation learns from.
A drawing is stored as the pad's full canvas (dark ink on white, 8-bit PNG), not as the 28x28
model input, so a better preprocessing later still applies to old drawings. Reading runs every
file through the same `preprocess` as the pad and `lstm-desktop classify`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_desktop.core.files.atomic import atomic_write
from lstm_desktop.core.errors import ImageError, LstmDesktopError

DIGITS = tuple(str(k) for k in range(10))


class MyDigitsError(LstmDesktopError):
    """A folder of drawings cannot be used: wrong layout, unreadable or blank files, too few classes."""


@dataclass(frozen=True, eq=False)
class DigitExamples:
    """Labelled drawings ready for the model: images are (N, 28, 28) float32 in [0, 1], 1 = ink
    (de-normalised: what the model sees), labels (N,) int64, files the source of each."""

    images: np.ndarray
    labels: np.ndarray
    files: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(len(self.labels))

    def counts(self) -> dict[int, int]:
        """Drawings per digit, for the digits present."""
        values, counts = np.unique(self.labels, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}


def _visible(p: Path) -> bool:
    return not p.name.startswith(".")


def list_drawings(root: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """(digit, file) for every file under root's digit folders, sorted; raises MyDigitsError on a
    missing root, a folder whose name is not a digit, or a file outside the digit folders."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise MyDigitsError(f"{base}: no such folder.", "Pass the folder that holds one sub-folder per digit (0-9).")
    found: list[tuple[int, Path]] = []
    for entry in sorted(filter(_visible, base.iterdir())):
        if entry.is_file():
            raise MyDigitsError(f"{entry}: a file directly in {base.name}/; drawings go in digit folders.",
                                f"Move it into {base.name}/<digit>/ (for example {base.name}/7/), or remove it.")
        if entry.name not in DIGITS:
            raise MyDigitsError(f"{entry}: the folder name {entry.name!r} is not a digit.",
                                "Name each sub-folder after the digit its drawings show: 0, 1, ... 9.")
        for f in sorted(filter(_visible, entry.iterdir())):
            if f.is_file():
                found.append((int(entry.name), f))
    return found


def read_digit_folder(root: str | os.PathLike[str], min_classes: int = 2) -> DigitExamples:
    """All drawings under root, preprocessed as the pad does. MyDigitsError when there are none,
    when a file is not a readable image or is blank, or when fewer than min_classes digits appear."""
    from lstm_desktop.core.drawing.images import load_image
    from lstm_desktop.core.drawing.preprocess import preprocess

    base = Path(root).expanduser()
    entries = list_drawings(base)
    if not entries:
        raise MyDigitsError(f"{base}: no drawings found.",
                            "Put PNG files in one sub-folder per digit, e.g. DIR/3/a.png (as My digits exports them).")
    images, labels, files = [], [], []
    for label, path in entries:
        try:
            pixels = load_image(path)
        except ImageError as exc:
            raise MyDigitsError(exc.message, "Remove it, or replace it with a PNG of one digit.") from exc
        pre = preprocess(pixels)
        if pre is None:
            raise MyDigitsError(f"{path}: blank image, no ink found.", "Remove it, or draw the digit again.")
        images.append(pre.image)
        labels.append(label)
        files.append(str(path))
    out = DigitExamples(np.stack(images).astype(np.float32), np.asarray(labels, dtype=np.int64), tuple(files))
    if len(out.counts()) < min_classes:
        only = ", ".join(str(k) for k in out.counts())
        raise MyDigitsError(f"{base}: drawings of only one digit ({only}); adapting needs at least {min_classes}.",
                            "Add drawings of other digits too (a few of each digit works best).")
    return out


def to_png_bytes(ink: np.ndarray) -> bytes:
    """A pad canvas (float ink in [0, 1], 1 = ink) -> PNG bytes, dark ink on white."""
    import io

    from PIL import Image

    grey = np.clip(255.0 - np.asarray(ink, dtype=np.float32) * 255.0, 0, 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grey, "L").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def save_drawing(root: str | os.PathLike[str], label: int, ink: np.ndarray) -> Path:
    """Write one drawing to root/<label>/<time>-<n>.png atomically; returns its path."""
    if not 0 <= int(label) <= 9:
        raise MyDigitsError(f"label {label} is not a digit.", "Use 0 to 9.")
    folder = Path(root).expanduser() / str(int(label))
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    n = 0
    while (target := folder / f"{stamp}-{n:03d}.png").exists():
        n += 1
    with atomic_write(target) as fh:
        fh.write(to_png_bytes(ink))
    return target
