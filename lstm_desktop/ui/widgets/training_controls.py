"""Train / Pause / Stop buttons, epoch and batch progress bars, throughput, elapsed time and ETA."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from lstm_desktop.ui.theme import primary_button_sheet
from lstm_desktop.ui.widgets.common import format_duration, format_rate, muted, named

IDLE, LOADING, TRAINING, PAUSED, STOPPING = "idle", "loading", "training", "paused", "stopping"


class TrainingControls(QWidget):
    trainRequested = Signal()
    pauseRequested = Signal()
    resumeRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingControls")
        self.state = IDLE
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        buttons = QHBoxLayout()
        self.train_button = named(QPushButton("Train"), "trainButton", "Train",
                                  "Train a model with these settings (Ctrl+Return)")
        self.train_button.setDefault(True)
        self.train_button.setMinimumHeight(32)
        self._style_train_button()
        self.pause_button = named(QPushButton("Pause"), "pauseButton", "Pause or resume",
                                  "Pause training after the current batch, or resume it")
        self.stop_button = named(QPushButton("Stop"), "stopButton", "Stop",
                                 "Stop after the current batch and keep the last finished epoch")
        for b in (self.pause_button, self.stop_button):
            b.setMinimumHeight(32)
        buttons.addWidget(self.train_button, 2)
        buttons.addWidget(self.pause_button, 1)
        buttons.addWidget(self.stop_button, 1)
        layout.addLayout(buttons)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        self.epoch_bar = named(QProgressBar(), "epochProgress", "Epoch progress")
        self.batch_bar = named(QProgressBar(), "batchProgress", "Batch progress")
        for bar in (self.epoch_bar, self.batch_bar):
            bar.setTextVisible(True)
            bar.setRange(0, 1)
            bar.setValue(0)
        grid.addWidget(QLabel("Epoch"), 0, 0)
        grid.addWidget(self.epoch_bar, 0, 1)
        grid.addWidget(QLabel("Batch"), 1, 0)
        grid.addWidget(self.batch_bar, 1, 1)
        layout.addLayout(grid)

        stats = QGridLayout()
        stats.setHorizontalSpacing(12)
        self.rate_value = named(QLabel("–"), "samplesPerSecond", "Samples per second")
        self.elapsed_value = named(QLabel("–"), "elapsedTime", "Elapsed time")
        self.eta_value = named(QLabel("–"), "etaTime", "Time remaining")
        self.loss_value = named(QLabel("–"), "lastLoss", "Latest batch loss")
        # Fixed sizes: a label whose size can change asks its parents to re-lay-out on every
        # setText, four times a second while training, on the cores the training needs.
        for col, (title, value, widest) in enumerate((
                ("samples/s", self.rate_value, "8,888,888"), ("elapsed", self.elapsed_value, "888:88:88"),
                ("remaining", self.eta_value, "888:88:88"), ("loss", self.loss_value, "8888.8888"))):
            stats.addWidget(muted(title, wrap=False), 0, col)
            font = value.font()
            font.setBold(True)
            value.setFont(font)
            value.setFixedSize(QFontMetrics(font).horizontalAdvance(widest) + 4, value.sizeHint().height())
            stats.addWidget(value, 1, col)
        layout.addLayout(stats)
        self.message = named(muted(""), "trainingMessage", "Training status")
        layout.addWidget(self.message)

        self.train_button.clicked.connect(self.trainRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.set_state(IDLE)

    def _on_pause_clicked(self) -> None:
        if self.state == PAUSED:
            self.resumeRequested.emit()
        else:
            self.pauseRequested.emit()

    def set_state(self, state: str, can_train: bool = True) -> None:
        self.state = state
        busy = state in (LOADING, TRAINING, PAUSED, STOPPING)
        self.train_button.setEnabled(not busy and can_train)
        self.pause_button.setEnabled(state in (TRAINING, PAUSED))
        self.pause_button.setText("Resume" if state == PAUSED else "Pause")
        self.stop_button.setEnabled(state in (LOADING, TRAINING, PAUSED))

    def reset(self, epochs: int = 1) -> None:
        self.epoch_bar.setRange(0, max(1, epochs))
        self.epoch_bar.setValue(0)
        self.epoch_bar.setFormat(f"0 / {epochs}")
        self.batch_bar.setRange(0, 1)
        self.batch_bar.setValue(0)
        self.batch_bar.setFormat("")
        for label in (self.rate_value, self.elapsed_value, self.eta_value, self.loss_value):
            label.setText("–")

    def set_progress(self, epochs_done: int, epochs: int, batch: int, batches: int) -> None:
        self.epoch_bar.setRange(0, max(1, epochs))
        self.epoch_bar.setValue(min(epochs_done, epochs))
        self.epoch_bar.setFormat(f"{epochs_done} / {epochs}")
        self.batch_bar.setRange(0, max(1, batches))
        self.batch_bar.setValue(min(batch, batches))
        self.batch_bar.setFormat(f"{batch} / {batches}")

    def set_stats(self, samples_per_second: float | None, elapsed: float | None, eta: float | None,
                  loss: float | None) -> None:
        self.rate_value.setText(format_rate(samples_per_second))
        self.elapsed_value.setText(format_duration(elapsed))
        self.eta_value.setText(format_duration(eta))
        self.loss_value.setText("–" if loss is None else f"{loss:.4f}")

    def set_message(self, text: str) -> None:
        self.message.setText(text)

    def _style_train_button(self) -> None:
        sheet = primary_button_sheet("trainButton", self.palette())
        if self.train_button.styleSheet() != sheet:
            self.train_button.setStyleSheet(sheet)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light <-> dark: the disabled look follows
            self._style_train_button()
