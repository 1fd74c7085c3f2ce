"""What the window remembers between sessions (QSettings), read defensively.

Settings files outlive versions and get edited by hand: every value is read with a type and a
fallback, and a value that cannot be used is ignored and logged, never a crash or a window that
never becomes ready (a `train/config` holding a list, `smoothing=abc`, a data folder that became
unreadable).
"""

from __future__ import annotations

import json
import logging
import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QSplitter, QTabWidget, QWidget

from lstm_desktop.core.training.config import SETTING, TrainConfig
from lstm_desktop.core.errors import LstmDesktopError

if TYPE_CHECKING:
    from lstm_desktop.ui.widgets.config_panel import ConfigPanel
    from lstm_desktop.ui.widgets.live_plots import LivePlots

log = logging.getLogger(__name__)


class WindowSettings:
    def __init__(self, settings: QSettings) -> None:
        self.qs = settings

    # ---- typed reads --------------------------------------------------------------------------
    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        raw = self.qs.value(key, default)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            log.warning("ignoring the saved %s: %r is not a number", key, raw)
            return default
        if not math.isfinite(value) or not lo <= value <= hi:
            log.warning("ignoring the saved %s: %r is out of range", key, raw)
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        raw = self.qs.value(key, default)
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        log.warning("ignoring the saved %s: %r is not true or false", key, raw)
        return default

    def text(self, key: str, default: str = "") -> str:
        raw = self.qs.value(key, default)
        return raw if isinstance(raw, str) else default

    def blob(self, key: str) -> QByteArray | None:
        raw = self.qs.value(key)
        return raw if isinstance(raw, QByteArray) and not raw.isEmpty() else None

    # ---- the training settings ----------------------------------------------------------------
    def config(self) -> TrainConfig:
        """The last settings used; each bad field is dropped on its own (the rest is kept)."""
        raw = self.qs.value("train/config")
        if not raw:
            return TrainConfig()
        try:
            data = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("ignoring the saved training settings: not a settings object")
            return TrainConfig()
        clean: dict[str, Any] = {}
        for name, value in data.items():
            s = SETTING.get(name)
            if s is None or not s.exposed:
                continue
            if s.kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if s.problem(value) is None:
                clean[name] = value
            else:
                log.warning("ignoring the saved %s: %r", name, value)
        try:
            return TrainConfig.for_dataset(clean.pop("dataset", "mnist"), **clean)
        except LstmDesktopError as exc:  # a combination no longer valid
            log.warning("ignoring the saved training settings: %s", exc.message)
            return TrainConfig()

    def theme(self) -> str:
        """View › Theme: system, light or dark (anything else: system)."""
        from lstm_desktop.ui.theme import THEME_CHOICES

        choice = self.text("view/theme", "system")
        return choice if choice in dict(THEME_CHOICES) else "system"

    def save_theme(self, choice: str) -> None:
        self.qs.setValue("view/theme", choice)
        self.sync()

    def save_config(self, config: TrainConfig) -> None:
        self.qs.setValue("train/config", config.to_json())

    def sync(self) -> None:
        self.qs.sync()

    # ---- the window -----------------------------------------------------------------------------
    def restore_window(self, config_panel: ConfigPanel, frame: QWidget, tabs: QTabWidget,
                       splitters: dict[str, QSplitter]) -> None:
        """Settings, size (of `frame`, the top-level window), splitters (by settings key) and tab of the
        last session, or the defaults."""
        config_panel.set_config(self.config())
        geometry = self.blob("window/geometry")
        if geometry is None or not frame.restoreGeometry(geometry):
            frame.resize(1320, 860)
        for key, splitter in splitters.items():
            state = self.blob(key)
            if state is not None:
                splitter.restoreState(state)
        tabs.setCurrentIndex(int(self.number("window/tab", 0, 0, tabs.count() - 1)))

    def save_window(self, config_panel: ConfigPanel, frame: QWidget, tabs: QTabWidget,
                    splitters: dict[str, QSplitter], plots: LivePlots | None = None) -> None:
        try:
            self.save_config(config_panel.config())
        except LstmDesktopError:
            pass
        qs = self.qs
        qs.setValue("window/geometry", frame.saveGeometry())
        for key, splitter in splitters.items():
            qs.setValue(key, splitter.saveState())
        qs.setValue("window/tab", tabs.currentIndex())
        if plots is not None:
            qs.setValue("plots/smoothing", plots.smoothing)
            qs.setValue("plots/log", "true" if plots.log_check.isChecked() else "false")
        self.sync()
