"""Drawing pad panel (stub, to be replaced): pad + preview + probabilities."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PadPanel(QWidget):
    """Interface the main window relies on.

    inputChanged(object): the model-ready (normalised) 28x28 float32 array of the current drawing,
    or None when the pad is empty; emitted (debounced) while drawing and on release.
    """

    inputChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._input: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Drawing pad (coming)"))

    def set_model(self, checkpoint, label: str) -> None:
        """Use this model (a core.checkpoint.Checkpoint) for predictions; label names its source."""

    def current_input(self) -> np.ndarray | None:
        """Thread-safe read of the last model-ready drawing (an immutable copy), or None."""
        return self._input
