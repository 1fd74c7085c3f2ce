"""The window icon, drawn in code: a rounded tile with a falling loss curve and a digit."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap


def make_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size / 64.0
        p.setBrush(QColor("#1a73e8"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(QRectF(2 * s, 2 * s, 60 * s, 60 * s), 12 * s, 12 * s)
        path = QPainterPath(QPointF(10 * s, 16 * s))
        path.cubicTo(QPointF(18 * s, 44 * s), QPointF(30 * s, 50 * s), QPointF(54 * s, 52 * s))
        p.setPen(QPen(QColor("white"), max(1.0, 4 * s), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        if size >= 32:
            font = QFont()
            font.setBold(True)
            font.setPixelSize(int(26 * s))
            p.setFont(font)
            p.setPen(QColor("white"))
            p.drawText(QRectF(30 * s, 6 * s, 28 * s, 30 * s), Qt.AlignmentFlag.AlignCenter, "7")
        p.end()
        icon.addPixmap(pixmap)
    return icon
