"""The drawing pad. (The 28x28 "what the model sees" preview and the probability bars are in
input_preview.py and probability_bars.py, re-exported here.)

DrawingPad keeps what is drawn as vector data (core.strokes.Stroke: points + pen width, in canvas
units on a CANVAS_SIZE square) and keeps two renderings of it:

* for the model, a core.strokes.StrokeRaster (numpy, Qt-free), updated segment by segment while
  drawing and re-rendered from the vectors after undo/redo/clear; its max-compositing makes the
  incremental and the full rendering identical, and it is the renderer the stroke evaluation uses;
* for the screen, QPainter paths: finished strokes are cached in a QPixmap (rebuilt only when the
  content changes or the widget is resized), the stroke in progress is drawn on top as one path.

Input: mouse (left button), tablet (pen) and touch (first finger); Qt's mouse events synthesised
from touch or tablet are not used twice because those events are accepted first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from lstm_desktop.core.drawing.strokes import (CANVAS_SIZE, PEN_DEFAULT, PEN_MAX, PEN_MIN, Stroke, StrokeBuilder,
                                       StrokeRaster)
from lstm_desktop.ui.widgets.common import numpy_to_qimage
from lstm_desktop.ui.widgets.pad_input import PointerInput

__all__ = ["DrawingPad", "PadState", "HISTORY_LIMIT"]

PAPER = QColor(252, 252, 250)
INK = QColor(20, 20, 24)
HISTORY_LIMIT = 500
CHUNK = 24  # points of the stroke in progress drawn as one path per paint, at most


@dataclass(frozen=True, eq=False)
class PadState:
    """What the pad shows: finished strokes, or a loaded image (pixels as loaded, and its name)."""

    strokes: tuple[Stroke, ...] = ()
    image: np.ndarray | None = None
    image_name: str = ""

    @property
    def empty(self) -> bool:
        return not self.strokes and self.image is None


class DrawingPad(PointerInput, QWidget):
    """A square canvas to draw digits on, with exact undo/redo and a model raster."""

    strokeStarted = Signal()
    strokeMoved = Signal()  # new points in the stroke in progress
    strokeFinished = Signal()  # pen up: a stroke was added
    contentChanged = Signal()  # any change of the finished content (stroke, undo, redo, clear, image)

    def __init__(self, parent: QWidget | None = None, canvas_size: int = CANVAS_SIZE) -> None:
        super().__init__(parent)
        self.setObjectName("drawingPad")
        self.setAccessibleName("Drawing pad")
        self.setAccessibleDescription("Draw a digit with the mouse, a pen or a finger. "
                                      "Escape or Delete clears, Ctrl+Z undoes.")
        self.canvas_size = int(canvas_size)
        self._state = PadState()
        self._undo: list[PadState] = []
        self._redo: list[PadState] = []
        self._pen_width = PEN_DEFAULT
        self._builder: StrokeBuilder | None = None
        self._before = self._state  # the content when the stroke in progress began
        self._raster = StrokeRaster(self.canvas_size)
        self._cache: QPixmap | None = None  # the finished content as shown (paper, image, strokes)
        self._image_cache: QImage | None = None
        self._pending: list[tuple[np.ndarray, float]] = []  # stroke pieces not yet in the cache
        self._tail_start = 0  # the stroke in progress is in the cache up to this point index
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(160, 160)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    # -- public API ------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(self.canvas_size + 40, self.canvas_size + 40)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    @property
    def state(self) -> PadState:
        return self._state

    def strokes(self) -> tuple[Stroke, ...]:
        return self._state.strokes

    def image(self) -> np.ndarray | None:
        return self._state.image

    def image_name(self) -> str:
        return self._state.image_name

    def is_drawing(self) -> bool:
        return self._builder is not None

    def is_empty(self) -> bool:
        return self._state.empty and self._builder is None

    def pen_width(self) -> float:
        return self._pen_width

    def set_pen_width(self, width: float) -> None:
        """Width of the next strokes, in canvas units (strokes keep the width they were drawn with)."""
        self._pen_width = float(min(max(width, PEN_MIN), PEN_MAX))

    def raster(self) -> np.ndarray:
        """The model rendering of the strokes (including the one in progress): a float32 ink image
        of canvas_size x canvas_size, live (copy it to keep it)."""
        return self._raster.image

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def clear(self) -> None:
        self._abort_stroke()
        if not self._state.empty:
            self._commit(PadState())

    def undo(self) -> None:
        self._abort_stroke()
        if self._undo:
            self._redo.append(self._state)
            self._set_state(self._undo.pop())

    def redo(self) -> None:
        self._abort_stroke()
        if self._redo:
            self._undo.append(self._state)
            self._set_state(self._redo.pop())

    def set_image(self, pixels: np.ndarray, name: str = "image") -> None:
        """Show a loaded image instead of strokes (undoable); drawing again returns to strokes."""
        self._abort_stroke()
        pixels = np.array(pixels, copy=True)
        pixels.setflags(write=False)
        self._commit(PadState((), pixels, name))

    def canvas_rect(self) -> QRectF:
        """Where the canvas square is, in widget coordinates."""
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2.0, (self.height() - side) / 2.0, side, side)

    def to_canvas(self, pos: QPointF) -> tuple[float, float]:
        r = self.canvas_rect()
        k = self.canvas_size / r.width() if r.width() > 0 else 1.0
        return (pos.x() - r.x()) * k, (pos.y() - r.y()) * k

    def to_widget(self, x: float, y: float) -> QPointF:
        r = self.canvas_rect()
        k = r.width() / self.canvas_size
        return QPointF(r.x() + x * k, r.y() + y * k)

    # -- drawing ---------------------------------------------------------------------------
    def _begin(self, pos: QPointF) -> None:
        if self._builder is not None:  # a lost release (a dialog grabbed the mouse...)
            self._end(None)
        self._before = self._state
        if self._state.image is not None:  # drawing replaces a shown image (undo brings it back)
            self._set_state(PadState(), notify=False)
        self._builder = StrokeBuilder(self._pen_width)
        x, y = self.to_canvas(pos)
        self._builder.add(x, y)
        self._raster.add_polyline([(x, y)], self._pen_width)
        if self._before.empty:
            self.update()  # the "Draw a digit here" text goes at once, not only where the pen passes
        else:
            self._update_around([(x, y)])
        self.strokeStarted.emit()
        self.strokeMoved.emit()

    def _extend(self, pos: QPointF) -> None:
        b = self._builder
        if b is None:
            return
        x, y = self.to_canvas(pos)
        last = b.points[-1]
        if b.add(x, y):
            self._raster.add_polyline([last, (x, y)], b.width)
            self._update_around([last, (x, y)])
            self.strokeMoved.emit()

    def _end(self, pos: QPointF | None) -> None:
        b = self._builder
        if b is None:
            return
        last = b.points[-1]
        if pos is not None:
            x, y = self.to_canvas(pos)
            stroke = b.finish(x, y)
            if stroke.points.shape[0] and tuple(stroke.points[-1]) != last:
                self._raster.add_polyline([last, (x, y)], b.width)
        else:
            stroke = b.finish()
        self._builder = None
        self._undo.append(self._before)
        del self._undo[:-HISTORY_LIMIT]
        self._redo.clear()
        self._state = PadState(self._state.strokes + (stroke,))
        # the screen already shows the stroke; its tail goes into the cache at the next paint
        self._pending.append((stroke.points[self._tail_start:], stroke.width))
        self._tail_start = 0
        self._update_around([tuple(p) for p in stroke.points[-2:]])
        self.strokeFinished.emit()
        self.contentChanged.emit()

    def _abort_stroke(self) -> None:
        if self._builder is not None:
            self._builder = None
            self._set_state(self._before, notify=False)

    def _commit(self, state: PadState) -> None:
        self._undo.append(self._state)
        del self._undo[:-HISTORY_LIMIT]
        self._redo.clear()
        self._set_state(state)

    def _set_state(self, state: PadState, notify: bool = True) -> None:
        self._state = state
        self._raster.render(state.strokes)
        self._cache = None
        self._pending.clear()
        self._tail_start = 0
        self._image_cache = numpy_to_qimage(state.image) if state.image is not None else None
        self.update()
        if notify:
            self.contentChanged.emit()

    # -- events: mouse, pen and touch are handled by PointerInput --------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self._cache = None
        super().resizeEvent(event)

    # -- painting --------------------------------------------------------------------------
    def _pen(self, width: float) -> QPen:
        pen = QPen(INK, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    @staticmethod
    def _path(points: np.ndarray | list[tuple[float, float]]) -> QPainterPath:
        path = QPainterPath()
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        path.moveTo(float(pts[0, 0]), float(pts[0, 1]))
        if len(pts) == 1:  # a dot: a zero-length line draws the round cap
            path.lineTo(float(pts[0, 0]), float(pts[0, 1]))
        for x, y in pts[1:]:
            path.lineTo(float(x), float(y))
        return path

    def _canvas_transform(self, painter: QPainter, origin: QPointF | None = None) -> None:
        r = self.canvas_rect()
        k = r.width() / self.canvas_size
        o = origin if origin is not None else r.topLeft()
        painter.translate(o)
        painter.scale(k, k)

    def _draw_strokes(self, painter: QPainter, strokes) -> None:
        for s in strokes:
            painter.setPen(self._pen(s.width))
            painter.drawPath(self._path(s.points))

    def _ensure_cache(self) -> QPixmap:
        dpr = self.devicePixelRatioF()
        size = self.size() * dpr
        if self._cache is None or self._cache.size() != size:
            pm = QPixmap(size)
            pm.setDevicePixelRatio(dpr)
            pm.fill(self.palette().color(QPalette.ColorRole.Window))
            p = QPainter(pm)
            try:
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                r = self.canvas_rect()
                p.fillRect(r, PAPER)
                if self._image_cache is not None:
                    img = self._image_cache
                    fit = QSize(img.width(), img.height()).scaled(r.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
                    target = QRectF(r.x() + (r.width() - fit.width()) / 2, r.y() + (r.height() - fit.height()) / 2,
                                    fit.width(), fit.height())
                    p.drawImage(target, img)
                p.setClipRect(r)
                self._canvas_transform(p)
                self._draw_strokes(p, self._state.strokes)
            finally:
                p.end()
            self._cache = pm
            self._pending.clear()
            self._tail_start = 0
        return self._cache

    def _flush_into_cache(self) -> None:
        """Draw finished stroke ends, and the older part of the stroke in progress, into the cache,
        so that a paint never strokes more than CHUNK points of path."""
        pieces = self._pending
        b = self._builder
        commit = b is not None and len(b.points) - self._tail_start > CHUNK
        if not pieces and not commit:
            return
        p = QPainter(self._cache)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setClipRect(self.canvas_rect())
            self._canvas_transform(p)
            for pts, width in pieces:
                if len(pts):
                    p.setPen(self._pen(width))
                    p.drawPath(self._path(pts))
            if commit:
                n = len(b.points)
                p.setPen(self._pen(b.width))
                p.drawPath(self._path(b.points[self._tail_start:n]))
                self._tail_start = n - 1
        finally:
            p.end()
        pieces.clear()

    def _update_around(self, pts: list[tuple[float, float]]) -> None:
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        pad = self._pen_width / 2 + 2
        a = self.to_widget(min(xs) - pad, min(ys) - pad)
        b = self.to_widget(max(xs) + pad, max(ys) + pad)
        self.update(QRectF(a, b).toAlignedRect().adjusted(-2, -2, 2, 2))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        cache = self._ensure_cache()
        self._flush_into_cache()
        p = QPainter(self)
        try:
            p.drawPixmap(0, 0, cache)
            r = self.canvas_rect()
            if self._builder is not None:
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                p.setClipRect(r)
                p.save()
                self._canvas_transform(p)
                p.setPen(self._pen(self._builder.width))
                p.drawPath(self._path(self._builder.points[self._tail_start:]))
                p.restore()
            elif self._state.empty:
                p.setPen(QColor(150, 150, 150))
                font = QFont(self.font())
                font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.3)
                p.setFont(font)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, "Draw a digit here\n(or drop an image)")
            if self.hasFocus():
                p.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(r.adjusted(1, 1, -1, -1))
        finally:
            p.end()

    def focusInEvent(self, event) -> None:  # noqa: N802
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self.update()
        super().focusOutEvent(event)
