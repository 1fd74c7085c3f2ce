"""Mouse, pen (tablet) and touch input of the drawing pad, as one mixin.

Why apart from DrawingPad: the three input paths differ only in how they deliver a position; each
turns into the pad's _begin / _extend / _end / _abort_stroke calls. Events are accepted first, so
Qt's mouse events synthesised from touch or tablet are not used twice.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QMouseEvent, QTabletEvent, QTouchEvent


class PointerInput:
    """Mixin for a QWidget with _builder, _begin(pos), _extend(pos), _end(pos), _abort_stroke() and
    a contentChanged signal (list it before QWidget in the bases)."""

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())
            event.accept()
        else:
            event.ignore()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._builder is not None:
            self._extend(event.position())
            event.accept()
        else:
            event.ignore()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._builder is not None:
            self._end(event.position())
            event.accept()
        else:
            event.ignore()

    def tabletEvent(self, event: QTabletEvent) -> None:
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position())
        elif kind == QEvent.Type.TabletMove:
            if self._builder is not None:
                self._extend(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._end(event.position())
        event.accept()  # no synthesised mouse events for the pen

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
                    QEvent.Type.TouchCancel):
            self._touch(event)  # type: ignore[arg-type]
            return True
        return super().event(event)

    def _touch(self, event: QTouchEvent) -> None:
        kind = event.type()
        if kind == QEvent.Type.TouchCancel:
            if self._builder is not None:
                self._abort_stroke()
                self.contentChanged.emit()
            event.accept()
            return
        points = event.points()
        if not points:
            event.accept()
            return
        pos = points[0].position()
        if kind == QEvent.Type.TouchBegin:
            self._begin(pos)
        elif kind == QEvent.Type.TouchUpdate:
            self._extend(pos)
        else:
            self._end(pos)
        event.accept()
