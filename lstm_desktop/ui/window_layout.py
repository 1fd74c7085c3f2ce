"""The window's widgets and where they sit: tabs (Train, Results, Draw, Inside), the floating
message banner, the status bar and the menu bar. Behaviour is wired in main_window.py."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

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
    w.error_banner.avoid(w.data_banner)  # the message never covers the MNIST banner's buttons
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


def add_menus(w: QMainWindow) -> None:
    """The menu bar (ui/menus.py), its actions calling the window's methods and parts; the window keeps
    each action as an attribute (w.train_action, w.log_action, w.theme_actions, …)."""
    from lstm_desktop.ui.menus import MenuSlots, build_menus

    do = MenuSlots(open_model=w.open_checkpoint, export_model=w.save_run, export_curves=w.export_curves,
                   export_onnx=lambda: w.files.export_onnx(), export_run_data=lambda: w.files.export_run_data(),
                   quit=w.close, train=w.start_training, toggle_pause=w.toggle_pause, stop=w.stop_training,
                   compare_cells=lambda: w.compare.start(),
                   set_log_scale=lambda on: w.plots is not None and w.plots.set_log_scale(on),
                   show_tab=w.tabs.setCurrentIndex)
    for name, action in vars(build_menus(w.menuBar(), w, do, w.prefs)).items():
        setattr(w, name, action)


def place_plots(w: QMainWindow) -> None:
    """Once start-up has loaded pyqtgraph: the live curves and the gradient flow in Train (smoothing and
    log axis as last time), a run's gradient flow in Results."""
    from lstm_desktop.ui.widgets.gradient_flow_view import GradientFlowView
    from lstm_desktop.ui.widgets.live_plots import LivePlots

    w.plots, w.gradient_view = LivePlots(), GradientFlowView()
    w.train_tab.install_plots(w.plots, w.gradient_view)
    w.results.install_gradient_view(GradientFlowView(heatmap=False))
    w.plots.export_png_button.clicked.connect(lambda: w.export_curves(kind="png"))
    w.plots.export_csv_button.clicked.connect(lambda: w.export_curves(kind="csv"))
    w.plots.set_smoothing(w.prefs.number("plots/smoothing", 0.9, 0.0, 0.99))
    log_on = w.prefs.flag("plots/log", False)
    w.plots.set_log_scale(log_on)
    w.log_action.setChecked(log_on)
    w.plots.logScaleChanged.connect(w.log_action.setChecked)
