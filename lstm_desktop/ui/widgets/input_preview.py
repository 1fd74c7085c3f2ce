"""The 28x28 model input, magnified with square pixels: exactly what the model sees.

Drawn white ink on black in every theme: it is the model's view of the digit, not a themed surface.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QWidget

from lstm_desktop.ui.widgets.common import numpy_to_qimage


class InputPreview(QWidget):
    """The 28x28 model input, de-normalised, magnified with square pixels: exactly what the model sees."""

    def __init__(self, parent: QWidget | None = None, magnify: int = 5) -> None:
        super().__init__(parent)
        self.setObjectName("inputPreview")
        self.setAccessibleName("What the model sees")
        self._image01: np.ndarray | None = None
        self._qimage: QImage | None = None
        self.setFixedSize(28 * magnify + 2, 28 * magnify + 2)

    def image(self) -> np.ndarray | None:
        """The [0, 1] image shown (1 = ink), or None."""
        return self._image01

    def set_image(self, image01: np.ndarray | None) -> None:
        if image01 is None:
            self._image01 = None
            self._qimage = None
            self.setAccessibleDescription("empty")
        else:
            self._image01 = np.array(image01, dtype=np.float32, copy=True)
            self._image01.setflags(write=False)
            grey = np.clip(self._image01 * 255.0 + 0.5, 0, 255).astype(np.uint8)
            self._qimage = numpy_to_qimage(grey)
            self.setAccessibleDescription("28 by 28 pixels, as the model sees the drawing")
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor(0, 0, 0))
            inner = QRectF(1, 1, self.width() - 2, self.height() - 2)
            if self._qimage is not None:
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
                p.drawImage(inner, self._qimage)
            else:
                p.setPen(QColor(120, 120, 120))
                p.drawText(inner, Qt.AlignmentFlag.AlignCenter, "empty")
            p.setPen(QColor(90, 90, 90))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(0.5, 0.5, self.width() - 1, self.height() - 1))
        finally:
            p.end()
