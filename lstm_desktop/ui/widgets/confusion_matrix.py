"""Confusion-matrix heatmap with counts; click (or arrow keys + Enter) a cell to see its images.

Cells blend from the palette's base colour to blue (correct) or red (confused), so an empty cell
looks empty on light and dark themes alike; the theme is re-read when the palette changes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from lstm_desktop.core.data.words import DIGITS, Words
from lstm_desktop.ui.theme import Theme, contrast, theme_for
from lstm_desktop.ui.widgets.common import named

_DIAG = np.array([25, 103, 210])   # blue for correct predictions (white counts read on it: 5.4:1)
_OFF = np.array([217, 48, 37])     # red for confusions
_MIN_TINT = 0.25  # a cell with any count is at least this far from empty: 3 confusions must not pass for 0
_INKS = (QColor("white"), QColor("black"))  # one of them reads on any colour (WCAG contrast 4.58 or more)


def ink_for(fill: QColor) -> QColor:
    """The count's colour on `fill`: white or black, whichever contrasts more (a threshold on
    lightness left small counts on the dark theme's dark cells, and mid blues, below 4.5:1)."""
    return max(_INKS, key=lambda ink: contrast(ink, fill))


class ConfusionMatrixView(QWidget):
    """Rows are true labels, columns predictions. Colour = share of the row (sqrt-scaled)."""

    cellClicked = Signal(int, int)  # true label, predicted label

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "confusionMatrix", "Confusion matrix",
              "Rows: true digit, columns: predicted digit. Click a cell to see its test images.")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 240)  # beside the gallery in a 1024 px window: the cells scale
        self._matrix = np.zeros((0, 0), dtype=np.int64)
        self._hover: tuple[int, int] | None = None
        self._current: tuple[int, int] | None = None
        self._message = "No metrics yet: train a model or open a checkpoint."
        self._words: Words = DIGITS
        self._theme: Theme = theme_for(self.palette())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._theme = theme_for(self.palette())
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(440, 440)

    # ---- data ---------------------------------------------------------------------------------
    def set_matrix(self, matrix) -> None:
        self._matrix = np.asarray(matrix, dtype=np.int64) if matrix is not None else np.zeros((0, 0), np.int64)
        if self._matrix.ndim != 2:
            self._matrix = np.zeros((0, 0), np.int64)
        self._hover = None
        self._current = None
        self.update()

    def set_words(self, words: Words) -> None:
        """The dataset's names for its classes (XX, XY… for temporal order) and its samples."""
        self._words = words
        self.setToolTip(f"Rows: true {words.kind}, columns: predicted {words.kind}. Click a cell to see its "
                        f"test {words.items}.")
        self.update()

    def clear(self, message: str) -> None:
        self._message = message
        self.set_matrix(None)

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix

    @property
    def size_n(self) -> int:
        return int(self._matrix.shape[0]) if self._matrix.size else 0

    # ---- geometry -----------------------------------------------------------------------------
    def _grid_rect(self) -> QRectF:
        left, top, right, bottom = 48.0, 36.0, 10.0, 10.0
        side = max(10.0, min(self.width() - left - right, self.height() - top - bottom))
        return QRectF(left, top, side, side)

    def cell_rect(self, row: int, col: int) -> QRectF:
        grid = self._grid_rect()
        n = max(1, self.size_n)
        size = grid.width() / n
        return QRectF(grid.left() + col * size, grid.top() + row * size, size, size)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        n = self.size_n
        grid = self._grid_rect()
        if not n or not grid.contains(pos):
            return None
        size = grid.width() / n
        col = int((pos.x() - grid.left()) // size)
        row = int((pos.y() - grid.top()) // size)
        if 0 <= row < n and 0 <= col < n:
            return row, col
        return None

    def _color(self, row: int, col: int) -> QColor:
        total = self._matrix[row].sum()
        share = self._matrix[row, col] / total if total else 0.0
        t = max(float(np.sqrt(share)), _MIN_TINT) if share > 0 else 0.0
        base = _DIAG if row == col else _OFF
        paper = QColor(self._theme.background)
        empty = np.array([paper.red(), paper.green(), paper.blue()])
        rgb = (empty + (base - empty) * t).astype(int)
        return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))

    def cell_colors(self, row: int, col: int) -> tuple[QColor, QColor]:
        """The cell's fill and the colour of its count, as painted."""
        fill = self._color(row, col)
        return fill, ink_for(fill)

    # ---- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.fillRect(self.rect(), self.palette().base())
        n = self.size_n
        if not n:
            painter.setPen(QColor(self._theme.muted))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            painter.end()
            return
        grid = self._grid_rect()
        size = grid.width() / n
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, min(11.0, size / 4.2)))
        painter.setFont(font)
        for r in range(n):
            for c in range(n):
                rect = self.cell_rect(r, c)
                color = self._color(r, c)
                painter.fillRect(rect, color)
                count = int(self._matrix[r, c])
                if count:
                    painter.setPen(ink_for(color))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        painter.setPen(QPen(QColor(self._theme.border), 1))
        for i in range(n + 1):
            painter.drawLine(QPointF(grid.left(), grid.top() + i * size), QPointF(grid.right(), grid.top() + i * size))
            painter.drawLine(QPointF(grid.left() + i * size, grid.top()), QPointF(grid.left() + i * size, grid.bottom()))
        painter.setPen(QColor(self._theme.text))
        for i in range(n):
            painter.drawText(QRectF(grid.left() - 22, grid.top() + i * size, 18, size),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._words.name(i))
            painter.drawText(QRectF(grid.left() + i * size, grid.top() - 18, size, 16),
                             Qt.AlignmentFlag.AlignCenter, self._words.name(i))
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(grid.left(), 0, grid.width(), 16), Qt.AlignmentFlag.AlignCenter, "predicted")
        painter.save()
        painter.translate(12, grid.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-grid.height() / 2, -8, grid.height(), 16), Qt.AlignmentFlag.AlignCenter, "true")
        painter.restore()
        for cell, color, width in ((self._hover, self._theme.text, 2), (self._current, "#f9ab00", 3)):
            if cell is not None:
                painter.setPen(QPen(QColor(color), width))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(self.cell_rect(*cell).adjusted(1, 1, -1, -1))
        painter.end()

    # ---- interaction --------------------------------------------------------------------------
    def describe(self, row: int, col: int) -> str:
        count = int(self._matrix[row, col])
        total = int(self._matrix[row].sum())
        words = self._words
        share = f" ({count / total * 100:.1f}% of the {words.name(row)}s)" if total else ""
        what = "correct" if row == col else f"true {words.name(row)}, predicted {words.name(col)}"
        return f"{what}: {count} {words.item}{'s' if count != 1 else ''}{share}"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        cell = self.cell_at(event.position())
        if cell != self._hover:
            self._hover = cell
            self.update()
        if cell is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(*cell), self)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover = None
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        cell = self.cell_at(event.position())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.select_cell(*cell)

    def select_cell(self, row: int, col: int) -> None:
        if not (0 <= row < self.size_n and 0 <= col < self.size_n):
            return
        self._current = (row, col)
        self.setAccessibleDescription(self.describe(row, col))
        self.update()
        self.cellClicked.emit(row, col)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        n = self.size_n
        if not n:
            return super().keyPressEvent(event)
        row, col = self._current or (0, 0)
        moves = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0),
                 Qt.Key.Key_Down: (1, 0)}
        if event.key() in moves:
            dr, dc = moves[event.key()]
            self._current = (min(n - 1, max(0, row + dr)), min(n - 1, max(0, col + dc)))
            self.setAccessibleDescription(self.describe(*self._current))
            self.update()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.select_cell(row, col)
        else:
            super().keyPressEvent(event)
