"""Two application-level events the window watches: its first paint (then the heavy imports
start) and the application quitting (then a run is stopped without asking)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer


class QuitWatch(QObject):
    """Notes that the application is quitting (QApplication.quit from a logout or a script, which
    then closes every window): the window stops its run without asking."""

    def __init__(self, on_quit: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_quit = on_quit

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.Quit:
            self._on_quit()
        return False


class FirstPaint(QObject):
    """Calls back once, on the first paint of the watched widget."""

    def __init__(self, callback, parent: QObject) -> None:
        super().__init__(parent)
        self._callback = callback

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            callback, self._callback = self._callback, None
            QTimer.singleShot(0, self, callback)
        return False
