"""Thumbnails of the test images in a confusion-matrix cell, or of every misclassified image."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QListView, QListWidget, QListWidgetItem,
                               QPushButton, QVBoxLayout, QWidget)

from lstm_desktop.core.data.words import DIGITS, Words
from lstm_desktop.ui.widgets.common import heading, image_to_pixmap, muted, named

MAX_THUMBNAILS = 600
THUMB = 56
INDEX_ROLE = Qt.ItemDataRole.UserRole


class SampleGallery(QWidget):
    """imageSelected: clicked (image, label); imageOpenRequested: double-clicked or 'Explain'."""

    imageSelected = Signal(object, str)
    imageOpenRequested = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sampleGallery")
        self._images: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._preds: np.ndarray | None = None
        self._mean, self._std = 0.5, 0.5
        self._words: Words = DIGITS
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = heading("Test images", 0)
        self.title.setWordWrap(True)  # "Correctly classified 3s: 34" must not widen the pane past the window
        layout.addWidget(self.title)
        self.caption = named(muted("Click a cell of the confusion matrix to see its images."),
                             "galleryCaption", "Gallery caption")
        layout.addWidget(self.caption)
        self.list = named(QListWidget(), "sampleList", "Test images in the selected cell",
                          "Click an image to explain it in 'Inside the LSTM'; double-click to go there")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 16, THUMB + 22))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setMinimumHeight(160)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemActivated.connect(self._on_activated)
        self.list.itemDoubleClicked.connect(self._on_activated)
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.misclassified_button = named(QPushButton("All misclassified"), "misclassifiedButton",
                                          "Show all misclassified images")
        self.misclassified_button.clicked.connect(self.show_misclassified)
        self.explain_button = named(QPushButton("Explain"), "explainImageButton",
                                    "Explain the selected image", "Open the selected image in the "
                                    "'Inside the LSTM' tab")
        self.explain_button.clicked.connect(self._explain_current)
        buttons.addWidget(self.misclassified_button)
        buttons.addStretch(1)
        buttons.addWidget(self.explain_button)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_source(self, images: np.ndarray | None, labels: np.ndarray | None,
                   predictions: np.ndarray | None, mean: float = 0.5, std: float = 0.5) -> None:
        ok = images is not None and labels is not None and predictions is not None \
            and len(images) == len(labels) == len(predictions)
        self._images = images if ok else None
        self._labels = np.asarray(labels) if ok else None
        self._preds = np.asarray(predictions) if ok else None
        self._mean, self._std = mean, std
        self.list.clear()
        if ok:
            errors = int((self._labels != self._preds).sum())
            self.misclassified_button.setText(f"All misclassified ({errors:,})")
            self.caption.setText("Click a cell of the confusion matrix to see its images.")
        else:
            self.misclassified_button.setText("All misclassified")
        self.title.setText(f"Test {self._words.items}")
        self._update_buttons()

    def set_words(self, words: Words) -> None:
        """The dataset's words: "Test sequences", classes XX…YY, no "Explain" for what the pad cannot show."""
        self._words = words
        self.title.setText(f"Test {words.items}")
        self.list.setAccessibleName(f"Test {words.items} in the selected cell")
        self.explain_button.setVisible(words.drawable)

    def clear(self, message: str) -> None:
        self.set_source(None, None, None)
        self.caption.setText(message)

    def show_cell(self, true_label: int, predicted: int) -> int:
        if self._images is None:
            self.caption.setText("The test images are not available for this model (see above).")
            return 0
        idx = np.flatnonzero((self._labels == true_label) & (self._preds == predicted))
        name = self._words.name
        what = f"True {name(true_label)}, predicted {name(predicted)}" if true_label != predicted \
            else f"Correctly classified {name(true_label)}s"
        self._fill(idx, what)
        return len(idx)

    def show_misclassified(self) -> int:
        if self._images is None:
            return 0
        idx = np.flatnonzero(self._labels != self._preds)
        self._fill(idx, f"Misclassified test {self._words.items}")
        return len(idx)

    def _fill(self, indices: np.ndarray, title: str) -> None:
        self.list.clear()
        self.title.setText(f"{title}: {len(indices):,}")
        shown = indices[:MAX_THUMBNAILS]
        name, items = self._words.name, self._words.items
        self.caption.setText(f"No {items} in this cell." if not len(indices) else
                             f"Showing the first {len(shown):,} of {len(indices):,}." if len(indices) > len(shown)
                             else "Click an image to explain it in 'Inside the LSTM'." if self._words.drawable else "")
        self.list.setUpdatesEnabled(False)
        for i in shown:
            i = int(i)
            t, p = int(self._labels[i]), int(self._preds[i])
            item = QListWidgetItem(QIcon(image_to_pixmap(self._images[i], THUMB, self._mean, self._std)),
                                   f"{name(t)}→{name(p)}" if t != p else name(t))
            item.setToolTip(f"Test {self._words.item} #{i}: true {name(t)}, predicted {name(p)}")
            item.setData(INDEX_ROLE, i)
            self.list.addItem(item)
        self.list.setUpdatesEnabled(True)
        self._update_buttons()

    def count(self) -> int:
        return self.list.count()

    def item_payload(self, item: QListWidgetItem) -> tuple[np.ndarray, str]:
        i = int(item.data(INDEX_ROLE))
        t, p = int(self._labels[i]), int(self._preds[i])
        return np.array(self._images[i], dtype=np.float32), f"test image #{i}: true {t}, predicted {p}"

    def select_index(self, row: int) -> None:
        item = self.list.item(row)
        if item is not None:
            self.list.setCurrentItem(item)

    def _on_current(self, item: QListWidgetItem | None, _previous=None) -> None:
        self._update_buttons()
        if item is not None and self._images is not None:
            self.imageSelected.emit(*self.item_payload(item))

    def _on_activated(self, item: QListWidgetItem) -> None:
        if self._images is not None:
            self.imageOpenRequested.emit(*self.item_payload(item))

    def _explain_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._on_activated(item)

    def _update_buttons(self) -> None:
        self.misclassified_button.setEnabled(self._images is not None)
        self.explain_button.setEnabled(self.list.currentItem() is not None)
