"""The Results tab: the runs table, the comparison of the selected runs (curves split by dataset, the
settings that differ, parallel coordinates of settings against results, the diff of two runs), and
the test-set results of the current run. It subscribes to the Runs model: a run that changes
anywhere (training, scoring, renaming) updates here by itself. Pinning and hiding are the runs'
tags "pinned" and "hidden", kept in the run store."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget
from superqt.utils import qthrottled

from lstm_desktop.core.runs.evented_runs import Run, Runs, RunStatus
from lstm_desktop.ui.runs_filter import HIDE_TAG, PIN_TAG
from lstm_desktop.ui.widgets.common import muted
from lstm_desktop.ui.widgets.hyperparam_table import HyperparameterTable
from lstm_desktop.ui.widgets.metrics_view import MetricsView
from lstm_desktop.ui.widgets.parallel_coords import ParallelCoordinatesView
from lstm_desktop.ui.widgets.run_diff import RunDiffView
from lstm_desktop.ui.widgets.runs_panel import RunsPanel

MAX_DATASET_PLOTS = 4
SELECTION_REFRESH_MS = 250  # a fast run (digits) ends 20 epochs a second; each would redraw every view
PREPARED_CURVES = 20  # curve items each of the first two plots gets while the window idles
PLOT_HEIGHT = 200  # the least height of a comparison plot alone in its pane
MAX_CURVE_RUNS = 100  # curves read from the store for at most this many selected runs (newest first)


class ComparisonView(QWidget):
    """One curve plot per dataset among the selected runs: runs on different data never share an axis."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("comparisonView")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.plots: list = []
        self.datasets: list[str] = []
        self.placeholder = muted("Select runs (Ctrl-click) to overlay their curves.")
        self.layout_.addWidget(self.placeholder)

    def _add_plot(self) -> None:
        from lstm_desktop.ui.widgets.run_comparison import RunComparisonPlot

        plot = RunComparisonPlot()
        plot.setObjectName(f"runComparison{len(self.plots) or ''}")
        plot.setVisible(False)
        self.plots.append(plot)
        self.layout_.addWidget(plot, 1)

    def prepare_plot(self) -> bool:
        """Make one more (hidden) plot, or curve items, ahead of need; False when all are made. A plot
        takes ~60 ms, which the first selection of runs on two datasets would otherwise pay."""
        if len(self.plots) >= MAX_DATASET_PLOTS:  # then curve items for 20 runs on each of two datasets
            return any(plot.prepare_curves(PREPARED_CURVES) for plot in self.plots[:2])
        self._add_plot()
        return True

    def set_runs(self, runs: list[Run]) -> None:
        groups: dict[str, list[Run]] = {}
        for run in runs:
            groups.setdefault(run.dataset or "?", []).append(run)
        self.datasets = list(groups)[:MAX_DATASET_PLOTS]
        while len(self.plots) < len(self.datasets):
            self._add_plot()
        # two or more plots share the pane at a smaller least height: at 200 px each they asked for
        # more than the pane had, and the whole window was laid out again after every paint
        least = PLOT_HEIGHT if len(self.datasets) <= 1 else PLOT_HEIGHT * 3 // 5
        for i, plot in enumerate(self.plots):
            if i < len(self.datasets):
                name = self.datasets[i]
                plot.plot_widget.setMinimumHeight(least)
                plot.setVisible(True)
                plot.set_runs(groups[name])
                if hasattr(plot, "set_title"):
                    plot.set_title(f"Compare runs on {name}")
            else:
                plot.set_runs([])
                plot.setVisible(False)
        self.placeholder.setVisible(not runs)

    def curve_count(self) -> int:
        return sum(p.curve_count() for p in self.plots if not p.isHidden())


class ResultsTab(QSplitter):
    imageSelected = Signal(object, str, int)  # image, label, the id of the run it belongs to
    imageOpenRequested = Signal(object, str, int)

    def __init__(self, runs: Runs, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("resultsSplitter")
        self.runs = runs
        # the views of a selected run that trains: redrawn at most every SELECTION_REFRESH_MS, not every epoch
        self._refresh_selection = qthrottled(lambda: self._on_selection(self.runs_panel.selected_ids()),
                                             SELECTION_REFRESH_MS, leading=True, parent=self)
        self.runs_panel = RunsPanel(runs)
        self.metrics_view = MetricsView()
        self.metrics_view.setMinimumWidth(320)  # squeezes rather than pushing the window past a small screen
        self.comparison = ComparisonView()
        self.hyperparams = HyperparameterTable()
        self.compare_tabs = QTabWidget()
        self.compare_tabs.setObjectName("compareTabs")
        self.compare_tabs.setDocumentMode(True)
        self.compare_tabs.addTab(self.comparison, "Curves")
        self.compare_tabs.addTab(self.hyperparams, "Settings that differ")
        self.parallel = ParallelCoordinatesView()
        self.diff = RunDiffView()
        self.compare_tabs.addTab(self.parallel, "Parallel coordinates")
        self.compare_tabs.addTab(self.diff, "Diff")
        self.store = None
        self._best_queue: list[int] = []
        self._best_timer = QTimer(self)
        self._best_timer.setInterval(0)
        self._best_timer.timeout.connect(self._read_some_bests)
        self._brushing = False  # a brush changes the table's selection, not the runs the view shows
        self.left = QSplitter(Qt.Orientation.Vertical)
        self.left.setObjectName("resultsLeftSplitter")
        self.left.addWidget(self.runs_panel)
        self.left.addWidget(self.compare_tabs)
        self.left.setSizes([380, 360])
        self.addWidget(self.left)
        self.addWidget(self.metrics_view)
        self.setSizes([560, 720])
        self.setStretchFactor(0, 4)
        self.setStretchFactor(1, 5)
        self.runs_panel.currentRunChanged.connect(self.show_run)
        self.runs_panel.selectionChanged.connect(self._on_selection)
        runs.events.changed.connect(self._on_run_changed)
        runs.events.removed.connect(lambda run: self._on_selection(self.runs_panel.selected_ids()))
        self.metrics_view.imageSelected.connect(lambda image, label: self.imageSelected.emit(image, label, self._shown))
        self.metrics_view.imageOpenRequested.connect(
            lambda image, label: self.imageOpenRequested.emit(image, label, self._shown))
        self.runs_panel.pinRequested.connect(lambda ids, on: self.set_tag(ids, PIN_TAG, on))
        self.runs_panel.hideRequested.connect(lambda ids, on: self.set_tag(ids, HIDE_TAG, on))
        self.runs_panel.diffRequested.connect(self.show_diff)
        self._settings_stale = False
        self.compare_tabs.currentChanged.connect(lambda _i: self._settings_stale and self._show_settings())
        self.parallel.runsBrushed.connect(self._on_brushed)
        self._shown: int = -1
        self._plot_timer = QTimer(self)  # the comparison's plots and parallel labels, made while idle
        self._plot_timer.setInterval(0)
        self._plot_timer.timeout.connect(lambda: self.comparison.prepare_plot() or self.parallel.prepare_labels()
                                         or self._plot_timer.stop())
        self._plots_prepared = False

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if not self._plots_prepared:  # first look at Results: the plots get made before runs are picked
            self._plots_prepared = True
            self._plot_timer.start()

    # ---- the store: best epochs, curves, tags ---------------------------------------------------
    def set_store(self, store) -> None:
        """The run store the runs came from: best-epoch figures read a few hundred runs at a time
        while the window idles (never in the way of launch), curves of selected runs on demand,
        pins and hides kept."""
        self.store = store
        self._best_queue = [r.id for r in self.runs] if store is not None else []
        if self._best_queue:
            self._best_timer.start()

    def _read_some_bests(self, count: int = 500) -> None:
        from lstm_desktop.core.runs.run_data import best_epochs

        chunk, self._best_queue = self._best_queue[:count], self._best_queue[count:]
        if not self._best_queue:
            self._best_timer.stop()
        if self.store is not None and chunk:
            try:
                self.runs_panel.model.set_bests(best_epochs(self.store, chunk))
            except Exception:  # noqa: BLE001 - a store that fails here still lists its runs
                self._best_queue = []
                self._best_timer.stop()

    def _load_curves(self, runs: list[Run]) -> None:
        """Curves of the selected runs that have none in memory yet; with thousands selected, only
        the newest MAX_CURVE_RUNS (overlaying more is unreadable, and reading them took seconds)."""
        if self.store is None:
            return
        todo = [run for run in sorted(runs, key=lambda r: -r.id)[:MAX_CURVE_RUNS]
                if not run.history and run.source != "opened" and not run.status.active]
        if not todo:
            return
        try:
            self.store.fill_curves_of(todo)  # one query for the whole selection
        except Exception:  # noqa: BLE001 - then run by run: one that fails is shown without curves
            for run in todo:
                try:
                    self.store.fill_curves(run)
                except Exception:  # noqa: BLE001
                    pass

    def set_tag(self, ids: list[int], tag: str, on: bool) -> None:
        """Pin/unpin or hide/show runs: their tags, in the store and in the table."""
        from lstm_desktop.ui import store_bridge

        for run in [r for r in (self.runs.get(i) for i in ids) if r is not None]:
            tags = tuple(t for t in run.tags if t != tag) + ((tag,) if on else ())
            if tags != run.tags:
                store_bridge.annotate(self.store, run.id, run.notes, tags)
                self.runs.update(run, tags=tags)
        if tag == PIN_TAG:
            self.runs_panel.model.resort()
        self.runs_panel._update_buttons()

    def show_diff(self, ids: list[int]) -> None:
        """The one-click diff: the Diff tab with the two runs, the older one as A."""
        runs = [r for r in (self.runs.get(i) for i in sorted(ids)) if r is not None]
        self._load_curves(runs)
        self.diff.set_runs(runs, self.runs_panel.model.best_of)
        self.compare_tabs.setCurrentWidget(self.diff)

    def _show_settings(self) -> None:
        if self.compare_tabs.currentWidget() is self.hyperparams:
            self._settings_stale = False
            self.hyperparams.set_runs(self.selected_runs())

    def _on_brushed(self, ids: list[int]) -> None:
        """Runs brushed in the parallel view become the table's selection (the view keeps its runs)."""
        self._brushing = True
        try:
            keep = ids or [r.id for r in self.parallel.runs]
            self.runs_panel.select_many(keep)
        finally:
            self._brushing = False

    def install_gradient_view(self, view: QWidget) -> None:
        view.setObjectName("compareGradientFlow")
        self.gradient_view = view
        self.compare_tabs.addTab(view, "Gradient flow")
        self._on_selection(self.runs_panel.selected_ids())

    def selected_runs(self) -> list[Run]:
        return [r for r in (self.runs.get(i) for i in self.runs_panel.selected_ids()) if r is not None]

    def _on_selection(self, ids: list[int]) -> None:
        runs = self.selected_runs()
        self._load_curves(runs)
        best = self.runs_panel.model.best_of
        self.comparison.set_runs(runs)
        self._settings_stale = True  # a table of every selected run: built when it is looked at
        if self.compare_tabs.currentWidget() is self.hyperparams:
            self._show_settings()
        self.diff.set_runs(runs, best)
        if not self._brushing:
            self.parallel.set_runs(runs, best)
        if getattr(self, "gradient_view", None) is not None:
            self.gradient_view.set_runs(runs)
        if len(runs) > 1 and self.compare_tabs.currentIndex() < 0:
            self.compare_tabs.setCurrentIndex(0)

    def _on_run_changed(self, run: Run, names: tuple[str, ...]) -> None:
        if run.id in self.runs_panel.selected_ids():  # a selected run that trains changes every epoch
            self._refresh_selection()
        if run.id == self._shown and set(names) & {"metrics", "status", "message", "extra", "dataset", "name"}:
            self.show_run(run.id)

    def show_run(self, run_id: int) -> None:
        run = self.runs.get(run_id)
        self._shown = run_id
        if run is None:
            self.metrics_view.clear("Train a model or open a checkpoint (Ctrl+O) to see its test-set results.")
            return
        title = f"{run.name} — {run.variant} on {run.dataset or '?'}"
        if run.status.active and run.metrics is None:
            self.metrics_view.set_result(title, None, status="Training… the test-set results appear when it ends.")
            return
        ckpt = run.extra.get("checkpoint")
        mean, std = (ckpt.mean, ckpt.std) if ckpt is not None else (0.5, 0.5)
        status = run.message
        if not status and run.metrics is not None:
            status = f"{run.metrics.samples:,} test samples"
            if run.source == "opened":
                status += " (scored now)" if run.extra.get("test_predictions") is not None else " (as saved)"
        if run.status == RunStatus.INTERRUPTED and not status:
            status = "Interrupted: its process ended before the run did; the last finished epoch is kept."
        self.metrics_view.set_result(title, run.metrics, run.extra.get("test_images"), run.extra.get("test_labels"),
                                     run.extra.get("test_predictions"), mean, std, status)
