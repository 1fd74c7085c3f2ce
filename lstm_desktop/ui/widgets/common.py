"""Small helpers shared by the widgets: naming for accessibility, colours, image conversion."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QImage, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QWidget

W = TypeVar("W", bound=QWidget)

# One palette for every plot and chart, readable on a light background (Okabe-Ito + Tableau).
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"
EMA_COLOR = "#1f4e9c"
RAW_COLOR = "#b9d3ea"  # opaque: blending a translucent line costs more to paint
DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
RUN_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
              "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]

MUTED_TEXT = "#5f6368"


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


def muted(text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setStyleSheet(f"color: {MUTED_TEXT};")
    return label


def hline() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


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


def color_with_alpha(color: str, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


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
