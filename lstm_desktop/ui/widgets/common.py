"""Small helpers shared by the widgets: naming for accessibility, muted text that follows the
palette, image conversion, number formats. Colours live in `ui.theme` (they depend on the palette);
the constants below are the light theme's, kept for code that has no widget to ask."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QImage, QPalette, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

from lstm_desktop.ui.theme import LIGHT_DIGITS, LIGHT_RUNS, mix

W = TypeVar("W", bound=QWidget)

# The light theme's series colours (ui.theme.theme_for(palette) gives both themes').
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"
EMA_COLOR = "#1f4e9c"
RAW_COLOR = "#b9d3ea"  # opaque: blending a translucent line costs more to paint
DIGIT_COLORS = list(LIGHT_DIGITS)
RUN_COLORS = list(LIGHT_RUNS)

MUTED_TEXT = "#5f6368"  # light theme only; MutedLabel follows the palette


def named(widget: W, object_name: str, accessible_name: str, tooltip: str | None = None) -> W:
    """Give a widget the objectName automation uses and the accessible name screen readers read."""
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    if tooltip:
        widget.setToolTip(tooltip)
    return widget


def heading(text: str, point_delta: int = 1) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() + point_delta)
    label.setFont(font)
    return label


class MutedLabel(QLabel):
    """Secondary text: the palette's text colour 40% of the way to the window colour, recomputed
    when the palette changes (a fixed grey was unreadable on a dark theme).

    Only WindowText is set on the label; Text and Window still come from the parent, so the colour
    is always derived from the current theme, and setting an equal colour again is a no-op in Qt,
    so a palette change settles after one step.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._restyle()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()

    def _restyle(self) -> None:
        pal = self.palette()
        color = mix(pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Window), 0.4)
        if pal.color(QPalette.ColorRole.WindowText) != color:
            pal.setColor(QPalette.ColorRole.WindowText, color)
            self.setPalette(pal)


def muted(text: str = "", wrap: bool = True) -> QLabel:
    label = MutedLabel(text)
    label.setWordWrap(wrap)
    return label


def big_number_font(base: QFont, delta: float = 6.0) -> QFont:
    font = QFont(base)
    font.setPointSizeF(base.pointSizeF() + delta)
    font.setBold(True)
    return font


def image_to_qimage(image: np.ndarray, mean: float = 0.5, std: float = 0.5) -> QImage:
    """A model-ready (normalised) image -> dark ink on white, 8-bit grayscale QImage (owning its data)."""
    pixels = np.clip(np.asarray(image, dtype=np.float32) * std + mean, 0.0, 1.0)
    gray = np.ascontiguousarray((255 - pixels * 255).astype(np.uint8))
    h, w = gray.shape
    return QImage(gray.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def image_to_pixmap(image: np.ndarray, size: int = 56, mean: float = 0.5, std: float = 0.5) -> QPixmap:
    qimage = image_to_qimage(image, mean, std)
    return QPixmap.fromImage(qimage.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation))


def numpy_to_qimage(pixels: np.ndarray) -> QImage:
    """uint8 (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA -> a QImage that owns its pixels."""
    arr = np.ascontiguousarray(pixels)
    if arr.dtype != np.uint8:
        arr = np.ascontiguousarray(np.clip(arr * 255.0 if arr.dtype.kind == "f" else arr, 0, 255).astype(np.uint8))
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    elif arr.shape[2] == 4:
        fmt = QImage.Format.Format_RGBA8888
    elif arr.shape[2] == 3:
        fmt = QImage.Format.Format_RGB888
    else:
        arr = np.ascontiguousarray(arr[..., 0])
        fmt = QImage.Format.Format_Grayscale8
    return QImage(arr.data, w, h, arr.strides[0], fmt).copy()


def format_duration(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_rate(samples_per_second: float | None) -> str:
    if samples_per_second is None or not np.isfinite(samples_per_second) or samples_per_second <= 0:
        return "–"
    return f"{samples_per_second:,.0f}"


def format_percent(value: float | None, digits: int = 2) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value * 100:.{digits}f}%"
