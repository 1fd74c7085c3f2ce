"""Which model the pad reads with: a run's (offered when it finishes, chosen in the Model list or in
Results) or the shipped one; remembered for the next start, and dropped when its run is trashed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.ui.window_settings import WindowSettings

if TYPE_CHECKING:
    from lstm_desktop.core.models.checkpoint import Checkpoint

PAD_RUN_KEY = "pad/run"


class PadView(Protocol):
    """What reads with the pad's model: the pad, the inside view and the Model list (ui/draw_tab.DrawTab)."""

    def set_model(self, checkpoint: Checkpoint | None, label: str) -> None: ...

    def show_model(self, run_id: int) -> None: ...


class PadModel(QObject):
    def __init__(self, runs: Runs, prefs: WindowSettings, model_label: QLabel,
                 checkpoint_of: Callable[[Run | None], Checkpoint | None], show_pad: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.prefs = prefs
        self.model_label = model_label  # the status bar's "Model: …"
        self.checkpoint_of = checkpoint_of
        self.show_pad = show_pad  # brings the Draw tab forward
        self.pad_run: Run | None = None
        self.draw: PadView | None = None  # once start-up has loaded the pad
        self.shipped: Checkpoint | None = None  # the shipped model's checkpoint, once loaded
        runs.events.removed.connect(self._on_removed)

    def attach(self, draw: PadView, shipped: Checkpoint | None) -> None:
        """The pad exists (start-up is done): what it reads with from now on."""
        self.draw, self.shipped = draw, shipped

    def use_on_pad(self, run: Run | None, switch: bool = False) -> None:
        """The pad reads with this run's model (None: the shipped model)."""
        if run is None:
            ckpt = self.shipped
            label = "Shipped model" if ckpt is not None else "No model yet: train one or open a model (Ctrl+O)"
        else:
            ckpt = self.checkpoint_of(run)
            label = run.label
            if ckpt is None:
                return
        self.pad_run = run
        # remembered for the next start (the run's creation time guards against a reused id)
        self.prefs.qs.setValue(PAD_RUN_KEY, f"{run.id} {run.created}" if run is not None else "")
        self.model_label.setText(f"Model: {label}")
        if self.draw is not None:
            self.draw.set_model(ckpt, label)
            self.draw.show_model(run.id if run is not None else -1)
        if switch:
            self.show_pad()

    def restore(self) -> None:
        """At start: the model the pad read with last time (an adapted one too) when its run is still
        kept with a model that reads drawings; else the shipped model."""
        from lstm_desktop.ui.widgets.model_selector import reads_drawings

        rid, _, created = self.prefs.text(PAD_RUN_KEY).partition(" ")
        run = self.runs.get(int(rid)) if rid.isdigit() else None
        if run is not None and run.created == created and reads_drawings(run) and self.checkpoint_of(run) is not None:
            self.use_on_pad(run)
        else:
            self.use_on_pad(None)

    def checkpoint(self) -> Checkpoint | None:
        """The model the pad reads with now (None when there is none)."""
        return self.checkpoint_of(self.pad_run) if self.pad_run is not None else self.shipped

    def name(self) -> str:
        return self.pad_run.name if self.pad_run is not None else "the shipped model"

    def _on_removed(self, run: Run) -> None:
        if self.pad_run is run:  # trashed here or by another process: the pad goes back to the shipped model
            self.use_on_pad(None)
