"""The Train tab's layout: settings that scroll above a fixed action bar (why a setting is refused,
Train / Pause / Stop and the progress: always visible whatever the window's height), and the curves beside."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from lstm_desktop.ui.widgets.banners import DataBanner
from lstm_desktop.ui.widgets.common import muted, named
from lstm_desktop.ui.widgets.config_panel import ConfigPanel
from lstm_desktop.ui.widgets.training_controls import TrainingControls


NO_RUN = "No run trained in this window yet: the Results tab lists every run."


class TrainTab(QSplitter):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("trainSplitter")
        self.config_panel = ConfigPanel()
        self.controls = TrainingControls()
        scroll = QScrollArea()
        scroll.setObjectName("trainSidebarScroll")
        scroll.setWidget(self.config_panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll = scroll
        bar = QFrame()
        bar.setObjectName("trainActionBar")
        bar.setFrameShape(QFrame.Shape.NoFrame)
        bar_layout = QVBoxLayout(bar)
        bar_layout.setContentsMargins(0, 6, 0, 0)
        # why Train is greyed goes beside it, not at the foot of the scrolled form, off-screen
        bar_layout.addWidget(self.config_panel.error_label)
        bar_layout.addWidget(self.controls)
        left = QWidget()
        left.setObjectName("trainSidebar")
        left.setMinimumWidth(340)
        column = QVBoxLayout(left)
        column.setContentsMargins(4, 4, 8, 4)
        column.setSpacing(6)
        column.addWidget(scroll, 1)
        column.addWidget(bar, 0)
        right = QWidget()
        right.setObjectName("trainCurves")
        self.curves_layout = QVBoxLayout(right)
        self.curves_layout.setContentsMargins(4, 4, 4, 4)
        # which run the curves and the gradient flow are: the one training, or the last one trained here
        self.run_label = named(QLabel(NO_RUN), "trainRunLabel", "Run shown in the Train tab")
        self.run_label.setWordWrap(True)
        self.curves_layout.addWidget(self.run_label)
        self.data_banner = DataBanner()
        self.curves_layout.addWidget(self.data_banner)
        self.plots_placeholder = muted("Loading the plotting library…")
        self.plots_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.curves_layout.addWidget(self.plots_placeholder, 1)
        self.addWidget(left)
        self.addWidget(right)
        self.setStretchFactor(0, 0)
        self.setStretchFactor(1, 1)
        self.setCollapsible(0, False)
        self.setSizes([380, 900])

    def install_plots(self, plots: QWidget, gradient_view: QWidget) -> None:
        """The live curves, and beside them (a tab) the gradient flow through time."""
        from PySide6.QtWidgets import QTabWidget

        self.views = QTabWidget()
        self.views.setObjectName("trainViews")
        self.views.setDocumentMode(True)
        self.views.addTab(plots, "Curves")
        self.views.addTab(gradient_view, "Gradient flow")
        self.views.setTabToolTip(1, "How much of the loss's gradient reaches each time step (long-lag lab)")
        self.curves_layout.replaceWidget(self.plots_placeholder, self.views)
        self.plots_placeholder.deleteLater()
        self.curves_layout.setStretchFactor(self.views, 1)
