"""The window's widgets and where they sit: tabs (Train, Results, Draw, Inside), the floating
message banner and the status bar. Behaviour is wired in main_window.py."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow  # the main window (ui/main_window.py), typed loosely: no cycle


from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from lstm_desktop.ui.results_tab import ResultsTab
from lstm_desktop.ui.train_tab import TrainTab
from lstm_desktop.ui.widgets.common import muted, named
from lstm_desktop.ui.widgets.overlay_banner import OverlayBanner



def build_layout(w: QMainWindow) -> None:
    central = QWidget()
    central.setObjectName("central")
    outer = QVBoxLayout(central)
    outer.setContentsMargins(8, 8, 8, 4)
    w.tabs = named(QTabWidget(), "mainTabs", "Sections")
    w.tabs.tabBar().setObjectName("mainTabBar")
    w.tabs.tabBar().setAccessibleName("Sections")
    w.tabs.setDocumentMode(True)
    outer.addWidget(w.tabs, 1)
    w.setCentralWidget(central)
    w.error_banner = OverlayBanner("errorBanner", "Message", central)  # over the content: never shifts it
    w.train_tab = TrainTab()
    w.config_panel, w.controls = w.train_tab.config_panel, w.train_tab.controls
    w.data_banner = w.train_tab.data_banner
    w.train_splitter = w.train_tab
    w.tabs.addTab(w.train_tab, "Train")
    w.results = ResultsTab(w.runs)
    w.runs_panel, w.metrics_view = w.results.runs_panel, w.results.metrics_view
    # the results speak the shown run's dataset's words (classes XX..YY of test sequences, or digits)
    w.runs_panel.currentRunChanged.connect(
        lambda rid: w.metrics_view.set_dataset(getattr(w.runs.get(rid), "dataset", None)))
    w.comparison = w.results.comparison
    w.results_splitter = w.results
    w.tabs.addTab(w.results, "Results")
    w.draw_tab = QWidget()
    w.draw_tab.setObjectName("drawTab")
    QVBoxLayout(w.draw_tab).addWidget(muted("Loading the drawing pad…"))
    w.inside_tab = QWidget()
    w.inside_tab.setObjectName("insideTab")
    QVBoxLayout(w.inside_tab).addWidget(muted("Loading…"))
    w.tabs.addTab(w.draw_tab, "Draw")
    w.tabs.addTab(w.inside_tab, "Inside the LSTM")
    bar = w.statusBar()
    bar.setObjectName("statusBar")
    w.state_label = named(QLabel(""), "stateLabel", "Training state")
    w.model_label = named(QLabel(""), "modelLabel", "Model in use")
    w.device_label = named(QLabel(""), "deviceLabel", "Compute device")
    for label in (w.state_label, w.model_label, w.device_label):
        label.setContentsMargins(8, 0, 8, 0)
    bar.addWidget(w.state_label, 1)
    bar.addPermanentWidget(w.model_label)
    bar.addPermanentWidget(w.device_label)
