"""The training form, built from the settings' declarations (core/training/config.py), section by section.

Each field takes its label, limits, help and objectName from its Setting, so the form accepts
exactly what the command line accepts and says the same thing when a value is wrong. A setting
that only means something for some datasets (sequence length, permutation, data folder) is shown
only for them. Imports no torch: the device list and the parameter count arrive once torch is
loaded (`set_devices`, `set_parameter_counter`).
"""

from __future__ import annotations

import os
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QToolButton, QVBoxLayout, QWidget)

from lstm_desktop.core.training.config import EXPOSED, SETTING, TrainConfig
from lstm_desktop.core.errors import ConfigError
from lstm_desktop.core.training.settings import Setting
from lstm_desktop.ui.widgets.common import muted, named
from lstm_desktop.ui.widgets.number_field import NumberField, WheelSafeComboBox

GROUPS = ("Data", "Model", "Training", "Compute")
HIDDEN_DATASETS = ("synthetic",)  # a test pattern: listed only when a config uses it


class ConfigPanel(QWidget):
    """Edits a TrainConfig. `configChanged` fires on every edit; `config()` returns the value."""

    configChanged = Signal()
    datasetChanged = Signal(str)
    dataDirChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("configPanel")
        self._default_data_dir = os.environ.get("LSTM_DESKTOP_DATA") or "~/.pytorch/MNIST_data"
        self._count_parameters: Callable[[TrainConfig], int] | None = None
        self._dataset = "mnist"
        self._last_data_dir = ""
        self.fields: dict[str, QWidget] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.groups: dict[str, QGroupBox] = {}
        forms: dict[str, QFormLayout] = {}
        for group in GROUPS:
            box = QGroupBox(group)
            box.setObjectName(f"{group.lower()}Group")
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            form.setHorizontalSpacing(10)
            form.setVerticalSpacing(6)
            self.groups[group] = box
            forms[group] = form
            layout.addWidget(box)
        for s in EXPOSED:
            self._add_field(forms[s.group], s)
        self.params_label = named(muted(), "parameterEstimate", "Parameter count")
        forms["Model"].addRow("", self.params_label)
        self.error_label = named(QLabel(), "configError", "Configuration problem")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d93025; font-weight: bold;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        # the names other parts of the app (and automation) use
        self.dataset_combo = self.fields["dataset"]
        self.device_combo = self.fields["device"]
        self.data_dir_edit = self.fields["data_dir"]
        self.lr_spin = self.fields["lr"]
        self.set_config(TrainConfig())

    # ---- construction -------------------------------------------------------------------------
    def _add_field(self, form: QFormLayout, s: Setting) -> None:
        tip = s.help[:1].upper() + s.help[1:] + (f" ({s.range_text()})" if s.range_text() and not s.choices else "")
        if s.name == "data_dir":
            edit = named(QLineEdit(), s.widget, s.label, tip)
            edit.setClearButtonEnabled(True)
            edit.editingFinished.connect(self._on_data_dir_edited)
            self.browse_button = named(QToolButton(), "browseDataDirButton", "Choose data folder",
                                       "Choose the folder that holds MNIST/raw/")
            self.browse_button.setText("…")
            self.browse_button.clicked.connect(self.choose_data_dir)
            row = QWidget()
            box = QHBoxLayout(row)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(4)
            box.addWidget(edit, 1)
            box.addWidget(self.browse_button)
            self.fields[s.name] = edit
            self._place(form, s, "Folder", row)
            self._update_data_dir_placeholder()
            return
        if s.kind is bool:
            check = named(QCheckBox(s.label), s.widget, s.label, tip)
            check.toggled.connect(self._changed)
            self.fields[s.name] = check
            self._place(form, s, "", check)
            return
        if s.choices or s.name == "device":
            combo = named(WheelSafeComboBox(), s.widget, s.label, tip)
            # long choices shrink (elided) instead of widening the settings past a small screen
            combo.setSizeAdjustPolicy(WheelSafeComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
            for value, text in s.choices:
                if value not in HIDDEN_DATASETS:
                    combo.addItem(text, value)
            if s.name == "device":
                combo.addItem("Detecting devices…", "auto")
                combo.setEnabled(False)
            combo.currentIndexChanged.connect(self._on_dataset_changed if s.name == "dataset" else self._changed)
            self.fields[s.name] = combo
            self._place(form, s, s.label, combo)
            return
        spin = named(NumberField(s), s.widget, s.label, tip)
        spin.valueChanged.connect(self._changed)
        spin.problemChanged.connect(lambda _text: (self._show_error(self.validation_error() or ""),
                                                   self.configChanged.emit()))
        self.fields[s.name] = spin
        self._place(form, s, s.label + (f" ({s.unit})" if s.unit and s.unit != "units" else ""), spin)

    def _place(self, form: QFormLayout, s: Setting, label: str, widget: QWidget) -> None:
        form.addRow(label, widget)
        self._rows[s.name] = (form, widget)

    # ---- values -------------------------------------------------------------------------------
    def _field_value(self, s: Setting) -> Any:
        w = self.fields[s.name]
        if s.name == "data_dir":
            return w.text().strip() or None
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, WheelSafeComboBox):
            return w.currentData() if w.currentData() is not None else s.default
        return w.value()

    def values(self) -> dict[str, Any]:
        return {s.name: self._field_value(s) for s in EXPOSED}

    def field_problems(self) -> list[str]:
        return [w.problem() for w in self.fields.values() if isinstance(w, NumberField) and w.problem()]

    def config(self) -> TrainConfig:
        """The configuration on screen; raises ConfigError (also shown under the form) if invalid."""
        problems = self.field_problems()
        if problems:
            self._show_error(problems[0])
            raise ConfigError(problems[0].rstrip("."))
        try:
            cfg = TrainConfig(**self.values())
            if cfg.dataset_problem():
                raise ConfigError(cfg.dataset_problem())
        except ConfigError as exc:
            self._show_error(exc.message)
            raise
        self._show_error("")
        return cfg

    def validation_error(self) -> str | None:
        problems = self.field_problems()
        if problems:
            return problems[0]
        try:
            return TrainConfig(**self.values()).dataset_problem()
        except ConfigError as exc:
            return exc.message

    def set_config(self, cfg: TrainConfig) -> None:
        cfg = cfg.within_dataset_limits()  # a saved or given config shows what its dataset can use
        for w in self.fields.values():
            w.blockSignals(True)
        try:
            combo = self.fields["dataset"]
            if combo.findData(cfg.dataset) < 0:
                combo.addItem(dict(SETTING["dataset"].choices).get(cfg.dataset, cfg.dataset), cfg.dataset)
            for s in EXPOSED:
                self._set_field(s, getattr(cfg, s.name))
            self._pending_device = cfg.device
            self._dataset = cfg.dataset
            self._last_data_dir = cfg.data_dir or ""
        finally:
            for w in self.fields.values():
                w.blockSignals(False)
        self._update_dependent()
        self.datasetChanged.emit(cfg.dataset)
        self.configChanged.emit()

    def _set_field(self, s: Setting, value: Any) -> None:
        w = self.fields[s.name]
        if s.name == "data_dir":
            w.setText(value or "")
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, WheelSafeComboBox):
            index = w.findData(value)
            if index >= 0:
                w.setCurrentIndex(index)
        else:
            w.setValue(value)

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """devices: (id, label) pairs as core.devices.available_devices() gives them."""
        combo = self.device_combo
        wanted = getattr(self, "_pending_device", None) or combo.currentData() or "auto"
        combo.blockSignals(True)
        combo.clear()
        best = next((label for dev, label in devices if dev != "cpu"), devices[0][1] if devices else "CPU")
        combo.addItem(f"Automatic: {best}", "auto")
        for dev, label in devices:
            combo.addItem(label, dev)
        index = combo.findData(wanted)
        combo.setCurrentIndex(max(index, 0))
        combo.setEnabled(True)
        combo.blockSignals(False)
        self._pending_device = None
        self._changed()

    def set_parameter_counter(self, count: Callable[[TrainConfig], int]) -> None:
        """core.shapes.parameter_count, once torch is loaded."""
        self._count_parameters = count
        self._update_dependent()

    def set_default_data_dir(self, path: str) -> None:
        self._default_data_dir = path
        self._update_data_dir_placeholder()

    def set_editable(self, editable: bool) -> None:
        for box in self.groups.values():
            box.setEnabled(editable)

    def choose_data_dir(self) -> None:
        edit = self.fields["data_dir"]
        start = edit.text().strip() or os.path.expanduser(self._default_data_dir)
        folder = QFileDialog.getExistingDirectory(self, "Folder that holds MNIST/raw", start)
        if folder:
            self.set_data_dir(folder)

    def set_data_dir(self, folder: str) -> None:
        self.fields["data_dir"].setText(folder)
        self._on_data_dir_edited()

    def set_dataset(self, dataset: str) -> None:
        combo = self.fields["dataset"]
        index = combo.findData(dataset)
        if index >= 0:
            combo.setCurrentIndex(index)

    # ---- reactions ----------------------------------------------------------------------------
    def _on_dataset_changed(self) -> None:
        new = self.fields["dataset"].currentData() or "mnist"
        old, self._dataset = self._dataset, new
        for s in EXPOSED:  # the new dataset's own settings load; the old one's own go back to the plain default
            if new in s.per_dataset or (old in s.per_dataset and self._field_value(s) == s.default_for(old)):
                self._set_field(s, s.default_for(new))
        self._update_dependent()
        self.datasetChanged.emit(new)
        self._changed()

    def _on_data_dir_edited(self) -> None:
        text = self.fields["data_dir"].text().strip()
        if text != self._last_data_dir:
            self._last_data_dir = text
            self.dataDirChanged.emit(text)
            self._changed()

    def _changed(self, *_args) -> None:
        self._update_dependent()
        self._show_error(self.validation_error() or "")
        self.configChanged.emit()

    def _update_dependent(self) -> None:
        dataset = self.fields["dataset"].currentData() or "mnist"
        for s in EXPOSED:
            if s.applies_to:
                form, widget = self._rows[s.name]
                row = form.getWidgetPosition(widget)[0]
                form.setRowVisible(row, dataset in s.applies_to)
        self.browse_button.setEnabled(dataset in SETTING["data_dir"].applies_to)
        if self.validation_error() is not None:
            self.params_label.setText("")
            return
        cfg = TrainConfig(**self.values())
        count = f": {self._count_parameters(cfg):,} parameters" if self._count_parameters else ""
        self.params_label.setText(f"{cfg.variant_name}{count}")

    def _update_data_dir_placeholder(self) -> None:
        self.fields["data_dir"].setPlaceholderText(f"default: {self._default_data_dir}")

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    _ALIASES = {"batch_spin": "batch_size", "val_spin": "val_size", "schedule_combo": "lr_schedule",
                "weight_decay_spin": "weight_decay", "grad_clip_spin": "grad_clip"}

    def __getattr__(self, attr: str):
        """`hidden_spin`, `attention_check`, `cell_combo`...: the field of that setting."""
        fields = self.__dict__.get("fields")
        if fields is not None:
            name = self._ALIASES.get(attr) or attr.rsplit("_", 1)[0]
            if name in fields and attr.endswith(("_spin", "_check", "_combo", "_edit")):
                return fields[name]
        raise AttributeError(attr)
