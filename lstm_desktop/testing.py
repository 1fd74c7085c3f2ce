"""Helpers for tests, benchmarks and tools that drive the UI as a user would (not used by the app).

They live here rather than beside the widgets so that widget modules hold only widget code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:
    from lstm_desktop.core.drawing.strokes import Stroke
    from lstm_desktop.ui.widgets.drawing_pad import DrawingPad


def replay_strokes(pad: "DrawingPad", strokes: Iterable["Stroke"], process_events: bool = False) -> None:
    """Draw strokes on the pad with real mouse events (press, moves, release) at float positions,
    as a user would; used by the stroke evaluation and the latency benchmark."""
    app = QApplication.instance()
    for s in strokes:
        pad.set_pen_width(s.width)
        pts = [pad.to_widget(float(x), float(y)) for x, y in s.points]
        send_mouse(pad, QEvent.Type.MouseButtonPress, pts[0], Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
        for q in pts[1:-1]:
            send_mouse(pad, QEvent.Type.MouseMove, q, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
            if process_events and app is not None:
                app.processEvents()
        send_mouse(pad, QEvent.Type.MouseButtonRelease, pts[-1], Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)


def send_mouse(widget: QWidget, kind: QEvent.Type, pos: QPointF, button, buttons) -> None:
    """One synthetic mouse event at a float position (sub-pixel positions reach the widget)."""
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint())) + (pos - QPointF(pos.toPoint()))
    ev = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)
