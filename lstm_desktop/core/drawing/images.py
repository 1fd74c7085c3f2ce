"""Reading digit images from files (PNG, JPEG, BMP, GIF, TIFF, WebP...) into numpy, safely.

The size is checked from the header before any pixel is decoded (MAX_PIXELS, 40 megapixels by
default), so a crafted "decompression bomb" costs nothing. Photos are turned upright by their
EXIF orientation. Very large images are reduced on decoding (JPEG draft mode) or right after
(box averaging) to at most WORKING_SIDE pixels on their longer side: the digit ends up 20 px tall
anyway. Transparency is kept (RGBA) so preprocessing can treat a transparent background as
background. Every failure is an ImageError with a one-line message and a hint.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import struct
import warnings
from pathlib import Path

import numpy as np

from lstm_desktop.core.errors import ImageError
from lstm_desktop.core.files.oserrors import reason

MAX_PIXELS = 40_000_000
WORKING_SIDE = 2048
FILE_DIALOG_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.pgm *.ppm)"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm")


def load_image(path: str | os.PathLike[str], max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A file -> uint8 array, (H, W) grey or (H, W, 4) RGBA when the image has transparency.

    Only regular files are read: a FIFO, device or socket is refused at once, and the file is
    opened non-blocking and checked again on the open descriptor, so nothing can make this wait."""
    p = Path(path).expanduser()
    name = str(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file.", "Check the path.") from None
    except OSError as exc:
        raise ImageError(f"{name}: {reason(exc)}.", "Check the path and its permissions.") from exc
    _check_regular(st.st_mode, name)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.EISDIR:  # pragma: no cover - raced with the check above
            raise ImageError(f"{name}: is a folder, not an image.", "Pass image files (PNG, JPEG, ...).") from exc
        hint = "Check the file's permissions." if exc.errno in (errno.EACCES, errno.EPERM) else "Check the path."
        raise ImageError(f"{name}: {reason(exc)}.", hint) from exc
    try:
        _check_regular(os.fstat(fd).st_mode, name)  # the path may have been swapped since the stat
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        return _decode(fh, name, max_pixels)


def _check_regular(mode: int, name: str) -> None:
    if stat.S_ISDIR(mode):
        raise ImageError(f"{name}: is a folder, not an image.", "Pass image files (PNG, JPEG, ...).")
    if not stat.S_ISREG(mode):
        what = "a pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise ImageError(f"{name}: is {what}, not an image file.", "Pass image files (PNG, JPEG, ...).")


def load_image_bytes(data: bytes, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Like load_image, for encoded bytes (a dropped or pasted image)."""
    return _decode(io.BytesIO(data), name, max_pixels)


def _decode(fh, name: str, max_pixels: int) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fh)  # reads the header only
            width, height = img.size
            if width * height > max_pixels:
                raise ImageError(
                    f"{name}: {width}x{height} pixels ({width * height / 1e6:.0f} megapixels) is over the "
                    f"{max_pixels / 1e6:.0f} megapixel limit.",
                    "Crop or shrink the image to the digit.")
            if width == 0 or height == 0:
                raise ImageError(f"{name}: the image has no pixels.", "Use another image.")
            if img.format == "JPEG" and max(width, height) > WORKING_SIDE:
                img.draft("RGB" if img.mode not in ("L", "1") else "L",
                          (min(width, WORKING_SIDE), min(height, WORKING_SIDE)))
            img.load()
            try:
                img = ImageOps.exif_transpose(img)
            except Exception:  # noqa: BLE001 - a malformed EXIF block: keep the pixels as stored
                pass
            return _to_array(img)
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError(f"{name}: not an image (or a format Pillow cannot read).",
                         "Use a PNG, JPEG, BMP, GIF, TIFF or WebP file.") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" ({int(found.group(1)) / 1e6:,.0f} megapixels)" if found else ""
        raise ImageError(f"{name}: too many pixels{size}, over the {max_pixels / 1e6:.0f} megapixel limit.",
                         "Crop or shrink the image to the digit.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImageError(f"{name}: truncated or corrupt image ({reason}).",
                         "Export the image again.") from exc


def _to_array(img) -> np.ndarray:
    from PIL import Image

    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = float(arr.max()) if arr.size else 0.0
        if img.mode == "F" and hi <= 1.0:
            scale = 1.0
        elif img.mode.startswith("I;16") or hi > 255:
            scale = 65535.0
        else:
            scale = 255.0
        img = Image.fromarray(np.clip(arr / scale * 255.0, 0, 255).astype(np.uint8), "L")
    elif img.mode == "CMYK":
        img = img.convert("RGB")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode in ("RGB", "L") and "transparency" in img.info)
    img = img.convert("RGBA") if has_alpha else img.convert("L")
    longest = max(img.size)
    if longest > WORKING_SIDE:
        factor = -(-longest // WORKING_SIDE)
        img = img.reduce(factor)
    arr = np.asarray(img, dtype=np.uint8)
    if has_alpha and arr[..., 3].min() == 255:  # alpha channel present but fully opaque
        arr = np.asarray(img.convert("L"), dtype=np.uint8)
    return arr
