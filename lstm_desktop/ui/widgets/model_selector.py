"""The Draw tab's choice of model: the shipped one (always first, one click away) and the newest kept
runs (up to MAX_LISTED, and the one in use) whose model reads 28x28 drawings; any other run is one
click away in Results (Use on pad). It follows the Runs model by itself."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.ui.widgets.common import named
from lstm_desktop.ui.widgets.number_field import WheelSafeComboBox

SHIPPED = -1
DRAWING_DATASETS = ("mnist", "synthetic")
MAX_LISTED = 500  # the newest runs that read drawings; with 10,000 runs a full list took seconds to build


def reads_drawings(run: Run) -> bool:
    """A run whose model can read the pad: trained on 28x28 images, with a model, not training now."""
    has_model = bool(run.checkpoint_path or run.extra.get("checkpoint"))
    # the dataset first: a stored run's config is then never decoded just to list it
    image_data = run.dataset in DRAWING_DATASETS or (run.dataset in ("", "mnist") and run.config is None)
    return has_model and image_data and not run.status.active and run.epochs_done > 0 or (
        run.source == "opened" and has_model and image_data)


class ModelSelector(WheelSafeComboBox):
    modelChosen = Signal(int)  # a run id, or SHIPPED

    def __init__(self, runs: Runs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "padModelCombo", "Model the pad reads with",
              "The shipped model, or any of your runs trained on 28x28 digits")
        self.runs = runs
        self._current = SHIPPED
        self.setMinimumContentsLength(28)
        self.setSizeAdjustPolicy(WheelSafeComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        runs.events.added.connect(lambda run: self.rebuild())
        runs.events.removed.connect(lambda run: self.rebuild())
        runs.events.changed.connect(self._on_changed)
        self.activated.connect(lambda index: self.modelChosen.emit(int(self.itemData(index))))
        self.rebuild()

    def _on_changed(self, run: Run, names: tuple[str, ...]) -> None:
        if set(names) & {"status", "name", "metrics", "checkpoint_path", "epochs_done", "extra"}:
            self.rebuild()

    def rebuild(self) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem("Shipped model (MNIST, BiLSTM + attention)", SHIPPED)
        listed = 0
        for run in sorted(self.runs, key=lambda r: -r.id):
            if listed < MAX_LISTED or run.id == self._current:
                if reads_drawings(run):
                    self.addItem(run.label, run.id)
                    listed += 1
        index = self.findData(self._current)
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)

    def show_current(self, run_id: int) -> None:
        """Reflect the model in use (set elsewhere: Use on pad, a new model opened)."""
        self._current = run_id
        self.rebuild()
