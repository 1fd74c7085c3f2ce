"""A spin box for one declared setting that reads numbers as people type them and never clamps.

QSpinBox/QDoubleSpinBox refuse `1e-4` and silently clamp or round what they do accept. This field
accepts any text, parses it with the setting's own rules (core.settings.Setting.parse: the same as
the command line), and when the text is not a valid value says so in place: a red frame and the
message (`problem()`), and the form refuses to train until it is fixed. Arrow keys and the buttons step; the mouse
wheel steps only when the field has focus, so scrolling the settings past it changes nothing.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget

from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.training.settings import Setting

ERROR_STYLE = "QAbstractSpinBox { border: 2px solid #d93025; border-radius: 3px; }"


class WheelSafe:
    """Mixin: the wheel changes the widget only when it has keyboard focus (else the page scrolls)."""

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt name
        if not self.hasFocus():  # type: ignore[attr-defined]
            event.ignore()
            return
        super().wheelEvent(event)  # type: ignore[misc]


class WheelSafeComboBox(WheelSafe, QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


class NumberField(WheelSafe, QAbstractSpinBox):
    """valueChanged(value) when the text becomes a new valid value; problemChanged(text) ('' = valid)."""

    valueChanged = Signal(object)
    problemChanged = Signal(str)

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setting = setting
        self._value: Any = setting.default
        self._problem = ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccelerated(True)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
        self.lineEdit().setText(self._text_for(setting.default))
        self.lineEdit().textChanged.connect(self._on_text_changed)
        self.editingFinished.connect(self._on_editing_finished)

    # ---- value -----------------------------------------------------------------------------
    def value(self) -> Any:
        """The value the text says (the last valid one while the text is not valid)."""
        return self._value

    def problem(self) -> str:
        """Why the text is not a valid value, or ''."""
        return self._problem

    def setValue(self, value: Any) -> None:  # noqa: N802 - Qt-style name
        self.lineEdit().setText(self._text_for(value))

    def _text_for(self, value: Any) -> str:
        if value is None:
            return self.setting.none_text
        if self.setting.kind is float:
            text = repr(float(value))
            return text[:-2] if text.endswith(".0") and abs(value) < 1e15 else text
        return str(value)

    def _on_text_changed(self, text: str) -> None:
        try:
            value = self.setting.parse(text)
        except LstmDesktopError as exc:
            self._set_problem(exc.message[:1].upper() + exc.message[1:] + ".")
            return
        self._set_problem("")
        if value != self._value or type(value) is not type(self._value):
            self._value = value
            self.valueChanged.emit(value)

    def _on_editing_finished(self) -> None:
        if not self._problem:  # show the value as the form writes it: "1e-4" -> "0.0001"
            text = self._text_for(self._value)
            if text != self.lineEdit().text():
                self.lineEdit().blockSignals(True)
                self.lineEdit().setText(text)
                self.lineEdit().blockSignals(False)

    def _set_problem(self, text: str) -> None:
        if text == self._problem:
            return
        self._problem = text
        self.setStyleSheet(ERROR_STYLE if text else "")
        self.setToolTip(text or self.setting.help[:1].upper() + self.setting.help[1:])
        self.problemChanged.emit(text)

    # ---- QAbstractSpinBox ----------------------------------------------------------------
    def validate(self, text: str, pos: int):  # anything may be typed; it is explained, not refused
        return QValidator.State.Acceptable, text, pos

    def fixup(self, text: str) -> str:
        return text

    def stepEnabled(self):  # noqa: N802 - Qt name
        flags = QAbstractSpinBox.StepEnabledFlag
        if self._problem or self._value is None and not self.setting.optional:
            return flags.StepNone
        return flags.StepUpEnabled | flags.StepDownEnabled

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt name
        s = self.setting
        value = self._value
        if value is None:
            value = s.lo if s.lo is not None else 0
            steps = max(0, steps - 1)
        step = s.step
        if s.adaptive and s.kind is float and value > 0:
            step = 10 ** (math.floor(math.log10(value) + 1e-9) - (1 if steps > 0 else 1))
            if steps < 0 and value - step <= 0:
                step = 10 ** (math.floor(math.log10(value) + 1e-9) - 2)
        new = value + steps * step
        if s.kind is int:
            new = int(round(new))
        else:
            new = float(f"{new:.12g}")
        if s.hi is not None:
            new = min(new, s.hi if not s.hi_open else value)
        if s.lo is not None:
            if s.optional and s.kind is int and new < s.lo:
                self.setValue(None)
                return
            new = max(new, s.lo if not s.lo_open else value)
        self.setValue(new)
