"""Ten horizontal bars, one per digit, with percentages; the top one highlighted.

The empty part of each bar (its track) is drawn in a colour blended from the palette's text and
window colours, so it shows on light and dark themes alike (a translucent 'Mid' vanished on dark
ones). The colours are worked out when the palette changes, not on every paint.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from lstm_desktop.ui.theme import mix


class BarColors:
    """Text, track, top bar, other bars, and their muted variants, for one palette."""

    def __init__(self, pal: QPalette) -> None:
        window = pal.color(QPalette.ColorRole.Window)
        self.text = pal.color(QPalette.ColorRole.WindowText)
        self.track = mix(self.text, window, 0.85)
        self.accent = pal.color(QPalette.ColorRole.Highlight)
        self.plain = mix(self.accent, window, 0.45)
        self.muted_accent = mix(self.text, window, 0.45)
        self.muted_plain = mix(self.text, window, 0.62)


class ProbabilityBars(QWidget):
    """Ten horizontal bars, one per digit, with percentages; the top one highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityBars")
        self.setAccessibleName("Probabilities for digits 0 to 9")
        self._p = np.zeros(10, dtype=np.float64)
        self._valid = False
        self._muted = False
        self.colors = BarColors(self.palette())
        self.setMinimumSize(180, 10 * 18)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(220, 10 * 20)

    def probabilities(self) -> np.ndarray | None:
        return self._p.copy() if self._valid else None

    def set_probabilities(self, probs: np.ndarray | None, muted: bool = False) -> None:
        """probs: 10 values (None clears); muted greys them out (an unsure or doubtful input)."""
        if probs is None:
            self._p = np.zeros(10)
            self._valid = False
            self.setAccessibleDescription("no prediction")
        else:
            self._p = np.asarray(probs, dtype=np.float64).reshape(-1)[:10].copy()
            self._valid = True
            self.setAccessibleDescription(", ".join(f"{d}: {v * 100:.0f}%" for d, v in enumerate(self._p)))
        self._muted = muted
        self.update()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.colors = BarColors(self.palette())
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            c = self.colors
            accent, plain = (c.muted_accent, c.muted_plain) if self._muted else (c.accent, c.plain)
            fm = p.fontMetrics()
            row = self.height() / 10.0
            label_w = fm.horizontalAdvance("0") + 8
            pct_w = fm.horizontalAdvance("100.0%") + 6
            bar_w = max(10.0, self.width() - label_w - pct_w)
            top = int(np.argmax(self._p)) if self._valid else -1
            p.setPen(c.text)
            for d in range(10):
                y = d * row
                h = max(4.0, row - 6)
                by = y + (row - h) / 2
                p.drawText(QRectF(0, y, label_w - 4, row),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(d))
                p.fillRect(QRectF(label_w, by, bar_w, h), c.track)
                v = float(self._p[d]) if self._valid else 0.0
                if v > 0:
                    p.fillRect(QRectF(label_w, by, max(1.0, bar_w * v), h), accent if d == top else plain)
                if self._valid:
                    p.drawText(QRectF(label_w + bar_w + 4, y, pct_w, row),
                               Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{v * 100:.1f}%")
        finally:
            p.end()

