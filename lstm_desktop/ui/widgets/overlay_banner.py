"""A message banner that floats over the top of the window's content instead of pushing it down:
a message that appears never moves what the user was about to click."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QTimer
from PySide6.QtWidgets import QGraphicsDropShadowEffect, QWidget

from lstm_desktop.ui.widgets.banners import MessageBanner

MARGIN = 12
MAX_WIDTH = 720
SHARE = 0.45  # of the host's width at most
TOP = 34  # below the tab bar
SUCCESS_MS = 12_000  # a success note goes away by itself; errors stay until dismissed or replaced


class OverlayBanner(MessageBanner):
    def __init__(self, name: str, accessible: str, host: QWidget) -> None:
        super().__init__(name, accessible, host)
        self.host = host
        shadow = QGraphicsDropShadowEffect(self)
        shadow.setBlurRadius(16)
        shadow.setOffset(0, 2)
        self.setGraphicsEffect(shadow)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self.kind == "success" and self.hide())
        self._avoided: list[QWidget] = []

    def avoid(self, widget: QWidget) -> None:
        """Never cover `widget` (the "MNIST is missing" banner, whose buttons sit on its right): while it
        shows, this banner sits below it."""
        self._avoided.append(widget)
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if obj in self._avoided and event.type() in (QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.Resize,
                                                     QEvent.Type.Move) and self.isVisible():
            self.reposition()
        return False

    def show_message(self, message: str, hint: str = "", kind: str = "error", action=None) -> None:
        """action: (button text, callable) offered beside the message, e.g. "Use Run 5 on the pad"."""
        super().show_message(message, hint, kind)
        self._set_action(action)
        self.reposition()
        self.raise_()
        if kind == "success":
            self._timer.start(SUCCESS_MS)
        else:
            self._timer.stop()

    def _set_action(self, action) -> None:
        from PySide6.QtWidgets import QPushButton

        old = getattr(self, "action_button", None)
        if old is not None:
            self.actions_layout.removeWidget(old)
            old.deleteLater()
            self.action_button = None
        if action is None:
            return
        text, slot = action
        button = QPushButton(text, self)
        button.setObjectName(f"{self.objectName()}Action")
        button.setAccessibleName(text)
        button.clicked.connect(slot)
        button.clicked.connect(self.hide)
        self.actions_layout.addWidget(button)
        self.action_button = button

    def reposition(self) -> None:
        """At the top right of the host, below the tab bar, as tall as its text needs: it covers as
        little as it can and never moves what is under it. At most SHARE of the host's width, so the
        left part of each tab's top row (the pad's Undo and Clear, the runs' filter) stays clickable."""
        width = min(MAX_WIDTH, max(240, int(self.host.width() * SHARE) - MARGIN))
        layout = self.layout()
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
        height = max(height, layout.totalMinimumSize().height())
        self.setFixedSize(width, height)
        place = QRect(self.host.width() - width - MARGIN, TOP, width, height)
        for widget in self._avoided:
            if widget.isVisible() and self.host.isAncestorOf(widget):
                below = QRect(widget.mapTo(self.host, QPoint(0, 0)), widget.size())
                if below.intersects(place):
                    place.moveTop(below.bottom() + 1 + MARGIN // 2)
        self.move(place.topLeft())
