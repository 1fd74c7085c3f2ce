"""Test-set results of one model: headline numbers, per-class table, confusion matrix, image drill-down."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from lstm_desktop.core.data.words import DIGITS, Words, words_for
from lstm_desktop.ui.widgets.common import format_percent, heading, muted, named
from lstm_desktop.ui.widgets.confusion_matrix import ConfusionMatrixView
from lstm_desktop.ui.widgets.headline_numbers import HeadlineNumbers
from lstm_desktop.ui.widgets.sample_gallery import SampleGallery

SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class NumericItem(QTableWidgetItem):
    """A table cell shown formatted but sorted by its number."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.setData(SORT_ROLE, float(value))
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)

    def __lt__(self, other: QTableWidgetItem) -> bool:  # type: ignore[override]
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return float(mine) < float(theirs)


class PerClassTable(QTableWidget):
    HEADERS = ["Digit", "Precision", "Recall", "F1", "Support"]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        named(self, "perClassTable", "Per-class precision, recall and F1",
              "Click a column header to sort")
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setSortingEnabled(True)

    def set_metrics(self, metrics, words: Words = DIGITS) -> None:
        self.setHorizontalHeaderLabels([words.kind.title(), *self.HEADERS[1:]])
        self.setSortingEnabled(False)
        rows = list(metrics.per_class) if metrics is not None else []
        self.setRowCount(len(rows))
        for r, c in enumerate(rows):
            self.setItem(r, 0, NumericItem(c.label, words.name(c.label)))
            self.setItem(r, 1, NumericItem(c.precision, f"{c.precision:.4f}"))
            self.setItem(r, 2, NumericItem(c.recall, f"{c.recall:.4f}"))
            self.setItem(r, 3, NumericItem(c.f1, f"{c.f1:.4f}"))
            self.setItem(r, 4, NumericItem(c.support, f"{c.support:,}"))
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)


class MetricsView(QWidget):
    imageSelected = Signal(object, str)
    imageOpenRequested = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsView")
        self.metrics = None
        self.dataset: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.title = named(heading("No model selected", 2), "metricsTitle", "Results title")
        layout.addWidget(self.title)
        self.status = named(muted(""), "metricsStatus", "Evaluation status")
        layout.addWidget(self.status)

        self.summary = HeadlineNumbers((("accuracy", "Accuracy"), ("precision", "Precision (macro)"),
                                        ("recall", "Recall (macro)"), ("f1", "F1 (macro)"),
                                        ("samples", "Test images")))
        self.values, self.captions = self.summary.values, self.summary.captions
        layout.addWidget(self.summary)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("metricsSplitter")
        top = QSplitter(Qt.Orientation.Horizontal)
        top.setObjectName("matrixGallerySplitter")
        self.matrix = ConfusionMatrixView()
        self.gallery = SampleGallery()
        top.addWidget(self.matrix)
        top.addWidget(self.gallery)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        split.addWidget(top)
        table_box = QWidget()
        tl = QVBoxLayout(table_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(heading("Per class", 0))
        self.table = PerClassTable()
        tl.addWidget(self.table)
        split.addWidget(table_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        self.splitter = split

        self.matrix.cellClicked.connect(self.gallery.show_cell)
        self.gallery.imageSelected.connect(self.imageSelected)
        self.gallery.imageOpenRequested.connect(self.imageOpenRequested)
        self.clear("Train a model or open a checkpoint (Ctrl+O) to see its test-set results.")

    def clear(self, message: str) -> None:
        self.metrics = None
        self.title.setText("No model selected")
        self.status.setText(message)
        self.summary.clear()
        self.matrix.clear(message)
        self.table.set_metrics(None)
        self.gallery.clear("")

    def set_result(self, title: str, metrics, images: np.ndarray | None = None, labels: np.ndarray | None = None,
                   predictions: np.ndarray | None = None, mean: float = 0.5, std: float = 0.5,
                   status: str = "", dataset: str | None = None) -> None:
        """dataset: whose words to use (classes and "sequences" for temporal order); None: set_dataset's."""
        words = self._apply_words(dataset or self.dataset)
        self.title.setText(title)
        self.status.setText(status)
        self.metrics = metrics
        if metrics is None:
            self.summary.clear()
            self.matrix.clear(status or "No test-set metrics for this model.")
            self.table.set_metrics(None)
            self.gallery.clear("")
            return
        self.summary.set_values({"accuracy": format_percent(metrics.accuracy), "precision": f"{metrics.precision:.4f}",
                                 "recall": f"{metrics.recall:.4f}", "f1": f"{metrics.f1:.4f}",
                                 "samples": f"{metrics.samples:,}"})
        self.matrix.set_matrix(metrics.confusion)
        self.table.set_metrics(metrics, words)
        self.gallery.set_source(images, labels, predictions, mean, std)
        if images is None:
            self.gallery.clear(f"The test {words.items} are not loaded for this model, so cells cannot be "
                               "opened" + (f": {status}" if status else "."))

    def set_dataset(self, dataset: str | None) -> None:
        """The shown run's dataset (the window sets it when the current run changes): its words."""
        self.dataset = dataset
        words = self._apply_words(dataset)
        if self.metrics is not None:
            self.table.set_metrics(self.metrics, words)

    def _apply_words(self, dataset: str | None) -> Words:
        words = words_for(dataset)
        self.captions["samples"].setText(f"Test {words.items}")
        self.matrix.set_words(words)
        self.gallery.set_words(words)
        return words

    def set_status(self, text: str) -> None:
        self.status.setText(text)
