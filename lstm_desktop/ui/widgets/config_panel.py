"""The training configuration form: data, model variant, optimisation, compute device.

Ranges are enforced by the spin boxes (the same bounds TrainConfig.validate checks); anything that
still fails validation is explained under the form and `config()` raises ConfigError.
Imports no torch: the device list is filled in by the window once torch has loaded.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from lstm_desktop.core.config import TrainConfig
from lstm_desktop.core.errors import ConfigError
from lstm_desktop.ui.widgets.common import muted, named

DATASET_CHOICES = [
    ("mnist", "MNIST (70,000 digits, 28×28)"),
    ("digits", "scikit-learn digits (offline, 8×8)"),
]
SYNTHETIC_CHOICE = ("synthetic", "Synthetic test pattern (tiny)")
SCHEDULE_CHOICES = [("none", "Constant"), ("onecycle", "One-cycle"), ("cosine", "Cosine decay")]
INPUT_SHAPES = {"mnist": (28, 28), "synthetic": (28, 28), "digits": (8, 8)}


def estimate_parameters(config: TrainConfig) -> int:
    """Parameter count of LSTMClassifier for this config, without building it (no torch needed)."""
    _, input_size = INPUT_SHAPES.get(config.dataset, (28, 28))
    h, dirs = config.hidden, 2 if config.bidirectional else 1
    total = 0
    for layer in range(config.layers):
        inp = input_size if layer == 0 else h * dirs
        total += dirs * (4 * h * (inp + h) + 8 * h)
    features = h * dirs
    if config.attention:
        half = features // 2 or 1
        total += features * half + half + half
    total += features * 10 + 10
    return total


class ConfigPanel(QWidget):
    """Edits a TrainConfig. `configChanged` fires on every edit; `config()` returns the value."""

    configChanged = Signal()
    datasetChanged = Signal(str)
    dataDirChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("configPanel")
        self._default_data_dir = os.environ.get("LSTM_DESKTOP_DATA") or "~/.pytorch/MNIST_data"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self._build_data_group())
        layout.addWidget(self._build_model_group())
        layout.addWidget(self._build_training_group())
        layout.addWidget(self._build_compute_group())
        self.error_label = named(QLabel(), "configError", "Configuration problem")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self._connect_changes()
        self._update_dependent()

    # ---- construction -------------------------------------------------------------------------
    @staticmethod
    def _form(title: str, name: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        box.setObjectName(name)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        return box, form

    @staticmethod
    def _spin(name: str, accessible: str, lo: int, hi: int, step: int = 1, tip: str = "") -> QSpinBox:
        spin = named(QSpinBox(), name, accessible, tip or None)
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setAccelerated(True)
        spin.setKeyboardTracking(False)
        return spin

    @staticmethod
    def _dspin(name: str, accessible: str, lo: float, hi: float, decimals: int, step: float,
               tip: str = "") -> QDoubleSpinBox:
        spin = named(QDoubleSpinBox(), name, accessible, tip or None)
        spin.setDecimals(decimals)
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setKeyboardTracking(False)
        return spin

    def _build_data_group(self) -> QGroupBox:
        box, form = self._form("Data", "dataGroup")
        self.dataset_combo = named(QComboBox(), "datasetCombo", "Dataset",
                                   "MNIST needs its four files (or a download); scikit-learn digits "
                                   "ships with scikit-learn and works offline.")
        for key, text in DATASET_CHOICES:
            self.dataset_combo.addItem(text, key)
        form.addRow("Dataset", self.dataset_combo)

        row = QHBoxLayout()
        row.setSpacing(4)
        self.data_dir_edit = named(QLineEdit(), "dataDirEdit", "MNIST data folder",
                                   "Folder that holds MNIST/raw/ (empty: $LSTM_DESKTOP_DATA or "
                                   "~/.pytorch/MNIST_data)")
        self.data_dir_edit.setClearButtonEnabled(True)
        self.browse_button = named(QToolButton(), "browseDataDirButton", "Choose data folder",
                                   "Choose the folder that holds MNIST/raw/")
        self.browse_button.setText("…")
        self.browse_button.clicked.connect(self.choose_data_dir)
        row.addWidget(self.data_dir_edit, 1)
        row.addWidget(self.browse_button)
        form.addRow("Folder", row)
        self.val_spin = self._spin("valSizeSpin", "Validation images", 0, 30000, 500,
                                   "Training images held out to measure validation loss and accuracy "
                                   "(digits uses at most 200)")
        form.addRow("Validation", self.val_spin)
        self.augment_check = named(QCheckBox("Augment (rotate, scale, shift, thicken)"), "augmentCheck",
                                   "Augmentation", "Random distortions of each batch: slower to fit, "
                                   "more robust to how people draw")
        form.addRow("", self.augment_check)
        self._update_data_dir_placeholder()
        return box

    def _build_model_group(self) -> QGroupBox:
        box, form = self._form("Model", "modelGroup")
        self.layers_spin = self._spin("layersSpin", "LSTM layers", 1, 8, 1, "Stacked LSTM layers")
        form.addRow("Layers", self.layers_spin)
        self.hidden_spin = self._spin("hiddenSpin", "Hidden size", 1, 4096, 16,
                                      "Units in each LSTM layer (the notebook used 128)")
        form.addRow("Hidden size", self.hidden_spin)
        self.bidirectional_check = named(QCheckBox("Bidirectional"), "bidirectionalCheck", "Bidirectional",
                                         "Read the rows top-down and bottom-up")
        self.attention_check = named(QCheckBox("Attention"), "attentionCheck", "Attention",
                                     "Weight every row's output instead of using only the last one")
        flags = QHBoxLayout()
        flags.addWidget(self.bidirectional_check)
        flags.addWidget(self.attention_check)
        flags.addStretch(1)
        form.addRow("", flags)
        self.dropout_spin = self._dspin("dropoutSpin", "Dropout", 0.0, 0.9, 2, 0.05,
                                        "Dropout before the classifier (and between layers when stacked)")
        form.addRow("Dropout", self.dropout_spin)
        self.params_label = named(muted(), "parameterEstimate", "Parameter count")
        form.addRow("", self.params_label)
        return box

    def _build_training_group(self) -> QGroupBox:
        box, form = self._form("Training", "trainingGroup")
        self.epochs_spin = self._spin("epochsSpin", "Epochs", 1, 10000, 1, "Passes over the training set")
        form.addRow("Epochs", self.epochs_spin)
        self.batch_spin = self._spin("batchSizeSpin", "Batch size", 1, 65536, 16, "Images per optimiser step")
        form.addRow("Batch size", self.batch_spin)
        self.lr_spin = self._dspin("learningRateSpin", "Learning rate", 0.000001, 10.0, 6, 0.0001,
                                   "Adam's step size (the notebook used 0.001)")
        self.lr_spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        form.addRow("Learning rate", self.lr_spin)
        self.schedule_combo = named(QComboBox(), "lrScheduleCombo", "Learning-rate schedule",
                                    "How the learning rate changes during training")
        for key, text in SCHEDULE_CHOICES:
            self.schedule_combo.addItem(text, key)
        form.addRow("LR schedule", self.schedule_combo)
        self.weight_decay_spin = self._dspin("weightDecaySpin", "Weight decay", 0.0, 1.0, 6, 0.0001,
                                             "L2 penalty on the weights (0: none)")
        self.weight_decay_spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        form.addRow("Weight decay", self.weight_decay_spin)
        self.grad_clip_spin = self._dspin("gradClipSpin", "Gradient clipping", 0.0, 1000.0, 2, 0.5,
                                          "Largest gradient norm per step; helps when the loss explodes")
        self.grad_clip_spin.setSpecialValueText("off")
        form.addRow("Clip gradients", self.grad_clip_spin)
        self.seed_spin = self._spin("seedSpin", "Random seed", 0, 2_147_483_647, 1,
                                    "Same seed + same settings + same device = same result")
        form.addRow("Seed", self.seed_spin)
        return box

    def _build_compute_group(self) -> QGroupBox:
        box, form = self._form("Compute", "computeGroup")
        self.device_combo = named(QComboBox(), "deviceCombo", "Compute device",
                                  "Only the devices present on this machine are listed")
        self.device_combo.addItem("Detecting devices…", "auto")
        self.device_combo.setEnabled(False)
        form.addRow("Device", self.device_combo)
        self.threads_spin = self._spin("threadsSpin", "CPU threads", 0, max(1, os.cpu_count() or 1), 1,
                                       "Threads torch may use on the CPU")
        self.threads_spin.setSpecialValueText("default")
        form.addRow("CPU threads", self.threads_spin)
        return box

    def _connect_changes(self) -> None:
        for spin in (self.val_spin, self.layers_spin, self.hidden_spin, self.epochs_spin, self.batch_spin,
                     self.seed_spin, self.threads_spin):
            spin.valueChanged.connect(self._changed)
        for dspin in (self.dropout_spin, self.lr_spin, self.weight_decay_spin, self.grad_clip_spin):
            dspin.valueChanged.connect(self._changed)
        for check in (self.augment_check, self.bidirectional_check, self.attention_check):
            check.toggled.connect(self._changed)
        for combo in (self.schedule_combo, self.device_combo):
            combo.currentIndexChanged.connect(self._changed)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_changed)
        self.data_dir_edit.editingFinished.connect(self._on_data_dir_edited)
        self._last_data_dir = ""

    # ---- values -------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        data_dir = self.data_dir_edit.text().strip() or None
        return dict(
            dataset=self.dataset_combo.currentData() or "mnist", data_dir=data_dir,
            hidden=self.hidden_spin.value(), layers=self.layers_spin.value(),
            bidirectional=self.bidirectional_check.isChecked(), attention=self.attention_check.isChecked(),
            dropout=round(self.dropout_spin.value(), 4), epochs=self.epochs_spin.value(),
            batch_size=self.batch_spin.value(), lr=self.lr_spin.value(),
            weight_decay=self.weight_decay_spin.value(), seed=self.seed_spin.value(),
            device=self.device_combo.currentData() or "auto", val_size=self.val_spin.value(),
            augment=self.augment_check.isChecked(), lr_schedule=self.schedule_combo.currentData() or "none",
            grad_clip=self.grad_clip_spin.value(), threads=self.threads_spin.value() or None,
        )

    def config(self) -> TrainConfig:
        """The configuration on screen; raises ConfigError (also shown under the form) if invalid."""
        try:
            cfg = TrainConfig(**self.values())
        except ConfigError as exc:
            self._show_error(exc.message)
            raise
        self._show_error("")
        return cfg

    def validation_error(self) -> str | None:
        try:
            TrainConfig(**self.values())
        except ConfigError as exc:
            return exc.message
        return None

    def set_config(self, cfg: TrainConfig) -> None:
        widgets = [self.dataset_combo, self.data_dir_edit, self.hidden_spin, self.layers_spin,
                   self.bidirectional_check, self.attention_check, self.dropout_spin, self.epochs_spin,
                   self.batch_spin, self.lr_spin, self.weight_decay_spin, self.seed_spin, self.device_combo,
                   self.val_spin, self.augment_check, self.schedule_combo, self.grad_clip_spin,
                   self.threads_spin]
        for w in widgets:
            w.blockSignals(True)
        try:
            if cfg.dataset == SYNTHETIC_CHOICE[0] and self.dataset_combo.findData(cfg.dataset) < 0:
                self.dataset_combo.addItem(SYNTHETIC_CHOICE[1], SYNTHETIC_CHOICE[0])
            self._select_data(self.dataset_combo, cfg.dataset)
            self.data_dir_edit.setText(cfg.data_dir or "")
            self._last_data_dir = cfg.data_dir or ""
            self.hidden_spin.setValue(cfg.hidden)
            self.layers_spin.setValue(cfg.layers)
            self.bidirectional_check.setChecked(cfg.bidirectional)
            self.attention_check.setChecked(cfg.attention)
            self.dropout_spin.setValue(cfg.dropout)
            self.epochs_spin.setValue(cfg.epochs)
            self.batch_spin.setValue(cfg.batch_size)
            self.lr_spin.setValue(cfg.lr)
            self.weight_decay_spin.setValue(cfg.weight_decay)
            self.seed_spin.setValue(cfg.seed)
            self._pending_device = cfg.device
            self._select_data(self.device_combo, cfg.device)
            self.val_spin.setValue(cfg.val_size)
            self.augment_check.setChecked(cfg.augment)
            self._select_data(self.schedule_combo, cfg.lr_schedule)
            self.grad_clip_spin.setValue(cfg.grad_clip)
            self.threads_spin.setValue(cfg.threads or 0)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._update_dependent()
        self.datasetChanged.emit(cfg.dataset)
        self.configChanged.emit()

    @staticmethod
    def _select_data(combo: QComboBox, value: Any) -> None:
        index = combo.findData(value)
        if index >= 0:
            combo.setCurrentIndex(index)

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """devices: (id, label) pairs as core.devices.available_devices() gives them."""
        wanted = getattr(self, "_pending_device", None) or self.device_combo.currentData() or "auto"
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        best = next((label for dev, label in devices if dev != "cpu"), devices[0][1] if devices else "CPU")
        self.device_combo.addItem(f"Automatic ({best})", "auto")
        for dev, label in devices:
            self.device_combo.addItem(label, dev)
        index = self.device_combo.findData(wanted)
        self.device_combo.setCurrentIndex(max(index, 0))
        self.device_combo.setEnabled(True)
        self.device_combo.blockSignals(False)
        self._pending_device = None
        self._changed()

    def set_default_data_dir(self, path: str) -> None:
        self._default_data_dir = path
        self._update_data_dir_placeholder()

    def set_editable(self, editable: bool) -> None:
        for child in self.findChildren(QGroupBox):
            child.setEnabled(editable)

    def choose_data_dir(self) -> None:
        start = self.data_dir_edit.text().strip() or os.path.expanduser(self._default_data_dir)
        folder = QFileDialog.getExistingDirectory(self, "Folder that holds MNIST/raw", start)
        if folder:
            self.set_data_dir(folder)

    def set_data_dir(self, folder: str) -> None:
        self.data_dir_edit.setText(folder)
        self._on_data_dir_edited()

    def set_dataset(self, dataset: str) -> None:
        self._select_data(self.dataset_combo, dataset)

    # ---- reactions ----------------------------------------------------------------------------
    def _on_dataset_changed(self) -> None:
        self._update_dependent()
        self.datasetChanged.emit(self.dataset_combo.currentData() or "mnist")
        self._changed()

    def _on_data_dir_edited(self) -> None:
        text = self.data_dir_edit.text().strip()
        if text != self._last_data_dir:
            self._last_data_dir = text
            self.dataDirChanged.emit(text)
            self._changed()

    def _changed(self) -> None:
        self._update_dependent()
        self._show_error(self.validation_error() or "")
        self.configChanged.emit()

    def _update_dependent(self) -> None:
        is_mnist = (self.dataset_combo.currentData() or "mnist") == "mnist"
        self.data_dir_edit.setEnabled(is_mnist)
        self.browse_button.setEnabled(is_mnist)
        try:
            cfg = TrainConfig(**self.values())
        except ConfigError:
            self.params_label.setText("")
            return
        self.params_label.setText(f"{cfg.variant_name}: {estimate_parameters(cfg):,} parameters")

    def _update_data_dir_placeholder(self) -> None:
        self.data_dir_edit.setPlaceholderText(f"default: {self._default_data_dir}")

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
