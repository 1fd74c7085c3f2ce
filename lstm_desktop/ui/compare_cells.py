"""Training › Compare cells: a guided experiment, not "whatever the form holds".

It trains a plain RNN, a GRU and an LSTM one after another on the long-lag task (temporal order)
with that dataset's own settings (core/training/config.py's per-dataset defaults), says beforehand what it
will do, and Stop ends the experiment as a whole (the cells still waiting do not start). While a
cell trains the form shows its settings; afterwards the user's own settings come back, and the
three runs are selected together in Results so their curves overlay.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMainWindow, QMessageBox

from lstm_desktop.core.training.config import SETTING, TrainConfig
from lstm_desktop.core.errors import ConfigError

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
    """Runs the experiment; the window's Stop (button, menu, shortcut) stops it as a whole."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.queue: list[TrainConfig] = []
        self.run_ids: list[int] = []
        self.saved: TrainConfig | None = None
        window.trainingFinished.connect(self._on_finished)
        window.controls.stopRequested.connect(self.abort)
        window.stop_action.triggered.connect(self.abort)

    @property
    def active(self) -> bool:
        return self.saved is not None

    def start(self) -> bool:
        w = self.w
        if w.training.is_training() or self.active:
            w.show_error("A run is training.", "Wait for it to end, or stop it, then compare cells.", "warning")
            return False
        try:
            form = w.config_panel.config()
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
            self.w.set_status(f"Compare cells stopped: {skipped} will not train")

    def _confirm(self, first: TrainConfig) -> bool:
        if getattr(self.w, "assume_yes", False):
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Compare cells",
                          "<p>Why LSTMs? Train a plain RNN, a GRU and an LSTM one after another on the long-lag "
                          "task, with its own settings:</p>"
                          f"<p><b>{describe(first)}</b>.</p>"
                          "<p>Each cell takes from seconds to a few minutes on a CPU. Watch Train › Gradient "
                          "flow while they learn; Results then overlays the three. Stop ends the whole "
                          "comparison. Your own settings come back afterwards.</p>", parent=self.w)
        box.setObjectName("compareCellsBox")
        start = box.addButton("Start", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(start)
        box.exec()
        return box.clickedButton() is start

    def _next(self, config: TrainConfig) -> bool:
        run = self.w.start_training(config)
        if run is None:
            self._end()
            return False
        self.run_ids.append(run.id)
        return True

    def _on_finished(self, run_id: int) -> None:
        if not self.active or run_id not in self.run_ids:
            return
        if self.queue and not self.w._close_pending:
            QTimer.singleShot(0, self, lambda: self._next(self.queue.pop(0)) if self.queue else self._end())
        else:
            self._end()

    def _end(self) -> None:
        w, saved, self.saved, self.queue = self.w, self.saved, None, []
        if saved is not None and not w.training.is_training():
            w.config_panel.set_config(saved)
            w.prefs.save_config(saved)
        panel = getattr(getattr(w, "results", None), "runs_panel", None)
        for i, run_id in enumerate(self.run_ids):
            if panel is not None and run_id in w.runs:
                panel.select(run_id, add=i > 0)


def compare_cells(window: QMainWindow) -> CompareCells:
    """The window's one experiment controller, made on first use."""
    controller = getattr(window, "compare", None)
    if controller is None:
        controller = window.compare = CompareCells(window)
    return controller
