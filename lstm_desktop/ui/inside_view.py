"""Inside the LSTM view (stub, to be replaced): readout, gates, attention, occlusion."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class InsideView(QWidget):
    """Interface the main window relies on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Inside the LSTM (coming)"))

    def set_model(self, checkpoint) -> None:
        """Explain this model (a core.checkpoint.Checkpoint, or None)."""

    def set_input(self, image: np.ndarray | None, label: str = "") -> None:
        """Explain the model on this model-ready 28x28 image (None clears the view)."""
