"""Beside the pad: the predicted digit, how sure the model is, the ten probabilities and the 28x28
image the model actually read. Paint-only: the pad panel hands it finished results."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from lstm_desktop.ui.widgets.input_preview import InputPreview
from lstm_desktop.ui.widgets.probability_bars import ProbabilityBars


class PredictionView(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictionView")
        self.digit_label = QLabel("–", self)
        self.digit_label.setObjectName("digitLabel")
        self.digit_label.setAccessibleName("Predicted digit")
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 5)
        font.setBold(True)
        self.digit_label.setFont(font)
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setMinimumWidth(120)
        self.confidence_label = QLabel("", self)
        self.confidence_label.setObjectName("confidenceLabel")
        self.confidence_label.setAccessibleName("Confidence")
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("padStatusLabel")
        self.status_label.setAccessibleName("Prediction status")
        self.status_label.setWordWrap(True)
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # its text never sets the column's width: a message must not shrink the pad (nor a prediction grow it)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        # room for three lines, always: a longer message must not move the bars (nor the pad)
        self.status_label.setFixedHeight(self.fontMetrics().height() * 3 + 6)
        self.bars = ProbabilityBars(self)
        self.preview = InputPreview(self)
        self.preview.setMinimumSize(86, 86)  # 3x; more when there is room, so the pad keeps the space
        self.preview.setMaximumSize(142, 142)
        self.seen_label = QLabel("What the model sees", self)
        self.seen_label.setWordWrap(True)
        self.seen_label.setMaximumWidth(150)
        self.seen_label.setBuddy(self.preview)
        # the digit and the 28x28 input side by side, then why (if unsure), then the ten bars: short
        # enough to fit a 700 px high window
        answer = QVBoxLayout()
        answer.addWidget(self.digit_label)
        answer.addWidget(self.confidence_label)
        answer.addStretch(1)
        seen = QVBoxLayout()
        seen.addWidget(self.seen_label)
        seen.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        top = QHBoxLayout()
        top.addLayout(answer, 1)
        top.addLayout(seen, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(self.bars)
        layout.addStretch(1)
        # one width whatever it shows, so the pad beside it keeps its size from the first stroke on
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.setFixedWidth(max(240, self.fontMetrics().horizontalAdvance("0" * 26)))

    def show_empty(self, text: str) -> None:
        self.digit_label.setText("–")
        self.digit_label.setEnabled(True)
        self.confidence_label.setText("")
        self.status_label.setText(text)
        self.bars.set_probabilities(None)

    def show_prediction(self, digit: int, confidence: float, probabilities: np.ndarray, doubt: str | None) -> None:
        self.digit_label.setText(f"{digit}?" if doubt else str(digit))
        self.digit_label.setEnabled(doubt is None)
        self.confidence_label.setText(f"{confidence * 100:.1f}% confident")
        self.status_label.setText(doubt or "")
        self.bars.set_probabilities(probabilities, muted=doubt is not None)

    def set_image(self, image01: np.ndarray | None, title: str) -> None:
        self.preview.set_image(image01)
        self.seen_label.setText(title)
