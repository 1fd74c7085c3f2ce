"""Training › Compare cells: a guided experiment, not "whatever the form holds".

It trains a plain RNN, a GRU and an LSTM one after another on the long-lag task (temporal order)
with that dataset's own settings (core/training/config.py's per-dataset defaults), says beforehand what it
will do, and Stop ends the experiment as a whole (the cells still waiting do not start). While a
cell trains the form shows its settings; afterwards the user's own settings come back, and the
three runs are selected together in Results so their curves overlay.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from lstm_desktop.core.training.config import SETTING, TrainConfig
from lstm_desktop.core.errors import ConfigError
from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.training_controller import TrainingController
from lstm_desktop.ui.widgets.config_panel import ConfigPanel
from lstm_desktop.ui.widgets.runs_panel import RunsPanel
from lstm_desktop.ui.window_settings import WindowSettings

CELLS = ("rnn", "gru", "lstm")
DATASET = "temporal-order"


def experiment_configs(form: TrainConfig | None) -> list[TrainConfig]:
    """The three runs: the task's own settings; only where to compute (and the seed) come from the form."""
    keep = {} if form is None else {"device": form.device, "threads": form.threads, "seed": form.seed}
    base = TrainConfig.for_dataset(DATASET, **keep)
    return [base.replace(cell=cell) for cell in CELLS]


def describe(config: TrainConfig) -> str:
    label = dict(SETTING["dataset"].choices)[config.dataset]
    return (f"{label}: sequences of {config.seq_len} steps, {config.hidden} units, one direction, no attention, "
            f"{config.epochs} epochs, learning rate {config.lr:g}")


class CompareCells(QObject):
    """Runs the experiment; the window's Stop (button, menu, shortcut) calls `abort`, which stops it as
    a whole, and the end of each run's thread calls `on_run_finished`."""

    def __init__(self, runs: Runs, training: TrainingController, config_panel: ConfigPanel, prefs: WindowSettings,
                 panel: RunsPanel, messages: Messages, start_training: Callable[[TrainConfig], Run | None],
                 closing: Callable[[], bool], assume_yes: Callable[[], bool], dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.runs = runs
        self.training = training
        self.config_panel = config_panel  # shows each cell's settings; the user's come back afterwards
        self.prefs = prefs
        self.panel = panel  # the three runs are selected together at the end
        self.messages = messages
        self.start_training = start_training  # the window's Train, with a given configuration
        self.closing = closing  # the window is closing: no further cell starts
        self.assume_yes = assume_yes  # automation: the question is answered Start
        self.dialog_parent = dialog_parent
        self.queue: list[TrainConfig] = []
        self.run_ids: list[int] = []
        self.saved: TrainConfig | None = None

    @property
    def active(self) -> bool:
        return self.saved is not None

    def start(self) -> bool:
        if self.training.is_training() or self.active:
            self.messages.show_error("A run is training.", "Wait for it to end, or stop it, then compare cells.", "warning")
            return False
        try:
            form = self.config_panel.config()
        except ConfigError:
            form = None
        configs = experiment_configs(form)
        if not self._confirm(configs[0]):
            return False
        self.saved = form or TrainConfig()
        self.queue, self.run_ids = configs[1:], []
        return self._next(configs[0])

    def abort(self) -> None:
        """Stop pressed: the running cell stops after its batch, the waiting ones never start."""
        if self.active and self.queue:
            skipped = ", ".join(c.cell.upper() for c in self.queue)
            self.queue = []
            self.messages.notice(f"Compare cells stopped: {skipped} will not train")

    def _confirm(self, first: TrainConfig) -> bool:
        if self.assume_yes():
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Compare cells",
                          "<p>Why LSTMs? Train a plain RNN, a GRU and an LSTM one after another on the long-lag "
                          "task, with its own settings:</p>"
                          f"<p><b>{describe(first)}</b>.</p>"
                          "<p>Each cell takes from seconds to a few minutes on a CPU. Watch Train › Gradient "
                          "flow while they learn; Results then overlays the three. Stop ends the whole "
                          "comparison. Your own settings come back afterwards.</p>", parent=self.dialog_parent)
        box.setObjectName("compareCellsBox")
        start = box.addButton("Start", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(start)
        box.exec()
        return box.clickedButton() is start

    def _next(self, config: TrainConfig) -> bool:
        run = self.start_training(config)
        if run is None:
            self._end()
            return False
        self.run_ids.append(run.id)
        return True

    def on_run_finished(self, run_id: int) -> None:
        if not self.active or run_id not in self.run_ids:
            return
        if self.queue and not self.closing():
            QTimer.singleShot(0, self, lambda: self._next(self.queue.pop(0)) if self.queue else self._end())
        else:
            self._end()

    def _end(self) -> None:
        saved, self.saved, self.queue = self.saved, None, []
        if saved is not None and not self.training.is_training():
            self.config_panel.set_config(saved)
            self.prefs.save_config(saved)
        for i, run_id in enumerate(self.run_ids):
            if run_id in self.runs:
                self.panel.select(run_id, add=i > 0)
