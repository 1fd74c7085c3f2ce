"""The Draw and Inside tabs: the pad, the model it reads with, and the explanation beside it.

One InsideView follows the user: beside the pad on Draw (so it updates while they draw), full size
on its own tab. Which model explains what, and the hand-off to the inference worker's thread, is
ui/explain_controller.py.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.ui.explain_controller import ExplainController
from lstm_desktop.ui.inference_worker import InferenceWorker


class DrawTab(QObject):
    """Places the pad, the model selector and the inside view; owns the explanation controller."""

    def __init__(self, runs: Runs, use_on_pad: Callable[[Run | None], None], draw_tab: QWidget,
                 inside_tab: QWidget, worker: InferenceWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from lstm_desktop.ui.inside.view import InsideView
        from lstm_desktop.ui.pad_panel import PadPanel

        self.inside_tab = inside_tab
        self.pad_panel = PadPanel(worker=worker)
        self.inside_view = InsideView()
        self.inside_view.setObjectName(self.inside_view.objectName() or "insideView")
        self.inside_view.setMinimumSize(360, 240)  # beside the pad on a 1024 px screen
        self.explainer = ExplainController(self.inside_view, worker, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("drawSplitter")
        left = QWidget()
        left.setObjectName("drawLeft")
        self.left_layout = QVBoxLayout(left)
        self.left_layout.setContentsMargins(0, 0, 0, 0)
        from lstm_desktop.ui.widgets.model_selector import SHIPPED, ModelSelector

        self.model_selector = ModelSelector(runs)  # the Model list: use_on_pad(the chosen run, or None: shipped)
        self.model_selector.modelChosen.connect(lambda rid: use_on_pad(None if rid == SHIPPED else runs.get(rid)))
        chooser = QHBoxLayout()
        chooser.addWidget(QLabel("Model:"))
        chooser.addWidget(self.model_selector, 1)
        self.left_layout.addLayout(chooser)
        self.left_layout.addWidget(self.pad_panel, 1)
        from lstm_desktop.ui.teach import TeachRow

        self.teach_row = TeachRow()
        self.left_layout.addWidget(self.teach_row)
        self.splitter.addWidget(left)
        _replace_content(draw_tab, self.splitter)
        _replace_content(inside_tab, None)  # its "Loading…" goes: the inside view is placed there later
        self.pad_panel.inputChanged.connect(self._on_pad_input)
        self.inside_view.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt name
        if obj is self.inside_view and event.type() == event.Type.Show:
            self.explainer.on_shown()
        return False

    def _on_pad_input(self, image) -> None:
        if self.pad_panel.pad.is_drawing():
            # live predictions follow the pen; the explanation (heavier to compute and to paint)
            # waits for the pen to lift, so drawing stays smooth
            return
        name = self.pad_panel.pad.image_name() if self.pad_panel.pad.image() is not None and \
            not self.pad_panel.pad.strokes() else "your drawing"
        self.explainer.set_input(image, name if image is not None else "")

    def set_model(self, checkpoint, label: str) -> None:
        """The model the pad reads with and the inside view explains."""
        self.pad_panel.set_model(checkpoint, label)
        self.explainer.set_model(checkpoint, label)

    def show_model(self, run_id: int) -> None:
        """The Model list shows this run as chosen (-1: the shipped model)."""
        self.model_selector.show_current(run_id)

    def explain_image(self, image: np.ndarray, label: str, model=None, model_label: str = "") -> None:
        """Explain a test image with the model it belongs to (a checkpoint or a saved model's path)."""
        self.explainer.set_input(image, label, model, model_label)

    def place_inside_view(self, on_draw_tab: bool) -> None:
        view = self.inside_view
        if on_draw_tab and view.parent() is not self.splitter:
            self.splitter.addWidget(view)
            self.splitter.setStretchFactor(0, 1)
            self.splitter.setStretchFactor(1, 1)
            width = max(self.splitter.width(), 1000)
            pad_side = self.splitter.widget(0)
            tools = self.pad_panel.tools.sizeHint().width() + 24  # Pen, Undo, Redo, Clear, Open unsqueezed
            # what the pad's tools need (the rest shows every inside panel whole), and on a big screen 40%
            left = max(pad_side.minimumSizeHint().width(), tools, int(width * 0.4))
            self.splitter.setSizes([left, width - left])  # the pad needs less room than the panels
        elif not on_draw_tab and view.parent() is not self.inside_tab:
            self.inside_tab.layout().addWidget(view)


def _replace_content(tab: QWidget, widget: QWidget | None) -> None:
    layout = tab.layout()
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            item.widget().deleteLater()
    layout.setContentsMargins(0, 0, 0, 0)
    if widget is not None:
        layout.addWidget(widget)
