"""Saving plots: a PNG at twice the screen resolution (or more), and CSV text with a run column,
both written atomically.

Why not QWidget.grab: it copies the screen pixels, so the image is only as sharp as the window and
shows whatever hover decoration (a crosshair) happens to be on screen. Here the widget is rendered
again into a larger image with the painter scaled, so axes, text and curves are drawn at the
higher resolution, and the caller hides its hover items first.
"""

from __future__ import annotations

import csv
import io
import math
from contextlib import contextmanager
from typing import Iterable, Iterator

from PySide6.QtCore import QBuffer, QIODevice, QPoint
from PySide6.QtGui import QColor, QImage, QPainter, QRegion
from PySide6.QtWidgets import QWidget

from lstm_desktop.core.files.atomic import atomic_write

EXPORT_SCALE = 2.0


@contextmanager
def hidden(items: Iterable) -> Iterator[None]:
    """Hide graphics items (crosshairs, hover marks) for the duration of an export."""
    shown = [item for item in items if item.isVisible()]
    for item in shown:
        item.setVisible(False)
    try:
        yield
    finally:
        for item in shown:
            item.setVisible(True)


def render_image(widget: QWidget, scale: float = EXPORT_SCALE, background: str | None = None) -> QImage:
    """The widget and its children drawn into an image `scale` times its size."""
    size = widget.size()
    image = QImage(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(background) if background else widget.palette().color(widget.backgroundRole()))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.scale(scale, scale)
        widget.render(painter, QPoint(), QRegion(), QWidget.RenderFlag.DrawChildren)
    finally:
        painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("could not encode the plots as PNG")
    return bytes(buffer.data())


def save_png(widget: QWidget, path: str, scale: float = EXPORT_SCALE, background: str | None = None) -> QImage:
    """Render and write the PNG atomically; returns the image (tests check its size)."""
    image = render_image(widget, scale, background)
    data = png_bytes(image)
    with atomic_write(path) as fh:
        fh.write(data)
    return image


def curves_csv(rows: Iterable[tuple[str, float, float]], run: str = "") -> str:
    """CSV text with the columns run, curve, epoch, value (empty value: not a number)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["run", "curve", "epoch", "value"])
    for name, x, y in rows:
        writer.writerow([run, name, f"{x:.6g}", "" if not math.isfinite(y) else f"{y:.8g}"])
    return text.getvalue()


def save_csv(rows: Iterable[tuple[str, float, float]], path: str, run: str = "") -> None:
    data = curves_csv(rows, run)
    with atomic_write(path, "w") as fh:
        fh.write(data)
