"""The Train tab's live view of a run: an observer (a core Callback, on the GUI thread) that feeds
the curves, the progress bars, the throughput and ETA, and the messages.

The Train tab shows one run, the one training (or the last one trained in this window), and names
it above the curves; choosing a run in the Results tab never changes it (Results has its own curves)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from lstm_desktop.core.training import events as ev
from lstm_desktop.core.data.words import words_for
from lstm_desktop.core.training.estimate import describe_epoch_time
from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.training_controller import PAUSED, BatchObserver, TrainingController
from lstm_desktop.ui.widgets.banners import DataBanner
from lstm_desktop.ui.widgets.common import format_percent
from lstm_desktop.ui.widgets.live_plots import PROBE_HINT
from lstm_desktop.ui.widgets.training_controls import TrainingControls

if TYPE_CHECKING:
    from lstm_desktop.ui.explain_controller import ExplainController
    from lstm_desktop.ui.widgets.gradient_flow_view import GradientFlowView
    from lstm_desktop.ui.widgets.live_plots import LivePlots


class LiveView(BatchObserver):
    def __init__(self, runs: Runs, training: TrainingController, controls: TrainingControls,
                 data_banner: DataBanner, run_label: QLabel, device_label: QLabel, messages: Messages,
                 parent: QObject | None = None) -> None:
        self.training = training  # its clocks: time run and time left
        self.controls = controls  # progress bars, numbers and the message under Train
        self.data_banner = data_banner  # the MNIST download's progress
        self.run_label = run_label  # names the run above the curves
        self.device_label = device_label
        self.messages = messages
        self.plots: LivePlots | None = None  # these three once start-up has loaded pyqtgraph
        self.gradient_view: GradientFlowView | None = None
        self.explainer: ExplainController | None = None
        self.fit_info: dict = {}
        self.last_row: np.ndarray | None = None
        self.epochs_done = 0
        self.run: Run | None = None  # the run the Train tab shows
        runs.events.changed.connect(self._on_run_changed)
        training.stateChanged.connect(lambda _state: self._name_run())  # paused / running again
        self.timer = QTimer(parent)
        self.timer.setInterval(250)  # progress bars and times; QProgressBar repaints at once
        self.timer.timeout.connect(self.tick)

    def attach(self, plots: LivePlots, gradient_view: GradientFlowView, explainer: ExplainController) -> None:
        """The curves, the gradient flow and the inside view exist (start-up is done): feed them too."""
        self.plots, self.gradient_view, self.explainer = plots, gradient_view, explainer

    # ---- which run ----------------------------------------------------------------------------
    def show_run(self, run: Run) -> None:
        """The Train tab now shows `run` (the one about to train): named above the curves and in the CSV."""
        self.run = run
        if self.plots is not None:
            self.plots.set_run_label(f"run {run.id}")  # the CSV export names the run its rows are from
        self._name_run()

    def run_text(self) -> str:
        """'Run 12 · digits · LSTM (128) · running': what the Train tab's curves are."""
        run = self.run
        if run is None:
            return ""
        status = str(run.status)
        if status == "running" and self.training.state == PAUSED:
            status = "paused"  # the run's record says running; the header says what the user sees
        parts = [run.name] + [p for p in (run.dataset, run.variant) if p] + [status]
        return " · ".join(parts)

    def _name_run(self) -> None:
        if self.run is not None:
            self.run_label.setText(self.run_text())

    def _on_run_changed(self, run: Run, names: tuple[str, ...]) -> None:
        if run is self.run and set(names) & {"name", "status", "dataset", "variant"}:
            self._name_run()

    # ---- events ------------------------------------------------------------------------------
    def on_run_start(self, event: ev.RunStarted) -> None:
        self.fit_info, self.last_row, self.epochs_done = {}, None, 0
        plots = self.plots
        if plots is not None:
            plots.clear()
            plots.set_x_extent(float(event.config.epochs))
            words = words_for(event.config.dataset)  # temporal order: 4 classes of sequences, nothing to draw
            plots.probe_hint.setText(PROBE_HINT if words.drawable else f"This run reads {words.items}, not "
                                     "drawings:\nthe pad's digit is not scored here.")
        if self.gradient_view is not None:
            self.gradient_view.clear()
        self.controls.reset(event.config.epochs)
        self.controls.set_message("Loading data…")
        self.timer.start()

    def on_download_progress(self, event: ev.DownloadProgress) -> None:
        self.data_banner.set_progress(event.file, float(event.done_bytes), float(event.total_bytes))
        self.messages.set_status(f"Downloading {event.file}…")

    def on_data_progress(self, event: ev.DataProgress) -> None:
        self.controls.set_message(f"Drawing {event.total:,} {event.what} for training (the first run with them "
                                  f"only): {event.done:,} done")
        self.messages.set_status(f"Drawing {event.what}…")

    def on_fit_start(self, event: ev.FitStarted) -> None:
        self.fit_info = dict(epochs=event.epochs, batches_per_epoch=event.batches_per_epoch, device=event.device)
        if self.plots is not None:
            self.plots.set_x_extent(float(event.epochs))
        banner = self.data_banner
        if banner.progress.isVisible():
            banner.set_downloading(False)
            banner.hide()
        self.controls.set_progress(0, event.epochs, 0, event.batches_per_epoch)
        estimate = describe_epoch_time(event.estimated_epoch_seconds, event.epochs)
        self.controls.set_message(f"{event.train_size:,} training samples, {event.val_size:,} for validation, "
                                    f"{event.parameters:,} parameters, on {event.device}"
                                    + (f"; {estimate}" if estimate else ""))
        self.messages.set_status(f"Training on {event.device}")
        self.device_label.setText(f"Device: {event.device}")

    def on_batches(self, rows: np.ndarray) -> None:
        if self.plots is not None:
            self.plots.append_batches(rows[:, 0], rows[:, 1])
        self.last_row = rows[-1]

    def on_epoch_end(self, event: ev.EpochEnded) -> None:
        self.epochs_done = event.epoch + 1
        if self.plots is not None:
            self.plots.append_epoch(event.epoch + 1, event.train_loss, event.val_loss, event.train_accuracy,
                                      event.val_accuracy)
        self.controls.set_progress(event.epoch + 1, event.epochs, 0, int(self.fit_info.get("batches_per_epoch", 1)))
        val = f", validation accuracy {format_percent(event.val_accuracy)}" if math.isfinite(event.val_accuracy) else ""
        self.controls.set_message(f"Epoch {event.epoch + 1}/{event.epochs}: training loss {event.train_loss:.4f}{val}")

    def on_probe_scored(self, event: ev.ProbeScored) -> None:
        if self.plots is not None:
            self.plots.append_probe(event.epoch + 1, np.asarray(event.probabilities))

    def on_gradient_flow(self, event: ev.GradientFlowMeasured) -> None:
        view = self.gradient_view
        if view is not None:
            view.add_measurement(event.epoch, event.progress, np.asarray(event.norms))

    def on_checkpoint_saved(self, event: ev.CheckpointSaved) -> None:
        """The inside view follows the run's newest epoch while it trains (the probe's model)."""
        if self.explainer is not None and not event.final:
            self.explainer.follow(event.path, event.epoch)

    def on_fit_failed(self, event: ev.FitFailed) -> None:
        self.messages.show_error(event.message, event.hint)

    def on_fit_end(self, event: ev.FitEnded) -> None:
        if event.epochs_completed:
            self.controls.set_message("Scoring the test set…")

    def on_run_end(self, event: ev.RunEnded) -> None:
        self.timer.stop()
        if self.explainer is not None:
            self.explainer.follow(None)
        self.tick()
        if self.plots is not None:
            self.plots.refresh()
        what = {"finished": "finished", "stopped": "stopped", "failed": "failed"}.get(event.status, event.status)
        name = self.run.name if self.run is not None else "Run"
        self.controls.set_message(f"{name} {what}" + (f": {event.message}" if event.message else "."))

    # ---- clock ---------------------------------------------------------------------------------
    def tick(self) -> None:
        controller = self.training
        row, info = self.last_row, self.fit_info
        if row is None or not info:
            self.controls.set_stats(None, controller.run_clock.seconds(), None, None)
            return
        epoch, batch, batches = int(row[5]), int(row[6]), int(row[7])
        epochs = int(info["epochs"])
        self.controls.set_progress(max(epoch, self.epochs_done), epochs, batch + 1, batches)
        done = (epoch * batches + batch + 1) / max(1, epochs * batches)
        fit_seconds = controller.fit_clock.seconds()
        eta = fit_seconds * (1 - done) / done if done > 0 else None
        self.controls.set_stats(float(row[3]), controller.run_clock.seconds(), eta, float(row[1]))
