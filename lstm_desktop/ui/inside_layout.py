"""The widgets around the plots of the "Inside the LSTM" view: the summary and hover lines, the
selectors, the legend of the heatmap colours and the help panel, and how they are laid out.

Built by functions on the view (not a base class) so that the view keeps the attribute names its
callers and tests use; InsideView connects nothing but what is here.
"""

from __future__ import annotations

from functools import partial

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QScrollArea, QSizePolicy,
                               QSplitter, QToolButton, QVBoxLayout, QWidget)

from lstm_desktop.ui import inside_panels as panels
from lstm_desktop.ui.inside_help import HELP, HELP_ORDER, tooltip
from lstm_desktop.ui.unit_order import BY_CHANGE, BY_NUMBER


def _label(text: str, name: str, accessible: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setAccessibleName(accessible)
    return label


def build_controls(view) -> None:
    """The summary and hover lines, the layer, unit-order and tint selectors, the help button."""
    view._summary = _label("", "insideSummary", "Inside the LSTM: prediction summary")
    view._summary.setTextFormat(Qt.TextFormat.RichText)
    # one line of fixed height whose width never drives the layout: a new text must not
    # re-layout (and so fully repaint) the plots below
    view._summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    view._hover = _label(" ", "insideHover", "Value under the mouse")
    view._hover.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    view._hover.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    view._layer_combo = QComboBox()
    view._layer_combo.setObjectName("insideLayerCombo")
    view._layer_combo.setAccessibleName("Layer and direction of the gates shown")
    view._layer_combo.setToolTip(tooltip(HELP["selector"]))
    view._layer_combo.currentIndexChanged.connect(view._on_layer_changed)
    view._order_combo = QComboBox()
    view._order_combo.setObjectName("insideUnitOrderCombo")
    view._order_combo.setAccessibleName("Order of the hidden units in the heatmaps")
    view._order_combo.setToolTip(tooltip(HELP["order"]))
    view._order_combo.addItem("by row of largest change", BY_CHANGE)
    view._order_combo.addItem("by number", BY_NUMBER)
    view._order_combo.currentIndexChanged.connect(view._on_layer_changed)
    view._tint_check = QCheckBox("Tint the digit by attention")
    view._tint_check.setObjectName("insideTintCheck")
    view._tint_check.setAccessibleName("Tint the digit by attention")
    view._tint_check.setChecked(True)
    view._tint_check.toggled.connect(view._on_tint_toggled)
    view._help_button = QToolButton()
    view._help_button.setObjectName("insideHelpButton")
    view._help_button.setAccessibleName("Show or hide the explanation of the panels")
    view._help_button.setText("? Help")
    view._help_button.setCheckable(True)
    view._help_button.setChecked(True)
    view._controls = QHBoxLayout()
    for widget, gap in ((QLabel("Gates of:"), 0), (view._layer_combo, 12), (QLabel("Units:"), 0),
                        (view._order_combo, 12), (view._tint_check, 12)):
        view._controls.addWidget(widget)
        if gap:
            view._controls.addSpacing(gap)
    view._controls.addWidget(view._hover, 1)
    view._controls.addWidget(view._help_button)


def build_body(view) -> None:
    """The two plot canvases with the heatmap legend, the help beside them, the layout."""
    view._top = pg.GraphicsLayoutWidget()
    view._top.setObjectName("insideTopPlots")
    view._top.setAccessibleName("Digit, attention, row-by-row readout and occlusion")
    view._gates_widget = pg.GraphicsLayoutWidget()
    view._gates_widget.setObjectName("insideGatePlots")
    view._gates_widget.setAccessibleName("Gates and states heatmaps")
    panels.build_top(view)
    panels.build_gates(view, view._theme)
    view._legend = _label("", "insideLegend", "What the heatmap colours mean")
    view._legend.setTextFormat(Qt.TextFormat.RichText)
    view._legend.setWordWrap(True)
    view._legend.setToolTip(tooltip(HELP["gates"] + "<br><br>" + HELP["order"]))
    gates_box = QWidget()
    gates_layout = QVBoxLayout(gates_box)
    gates_layout.setContentsMargins(0, 0, 0, 0)
    gates_layout.setSpacing(2)
    gates_layout.addWidget(view._legend)
    gates_layout.addWidget(view._gates_widget, 1)

    plots = QSplitter(Qt.Orientation.Vertical)
    plots.setObjectName("insidePlotSplitter")
    plots.addWidget(view._top)
    plots.addWidget(gates_box)
    plots.setStretchFactor(0, 5)
    plots.setStretchFactor(1, 6)
    view._help = _label("<br><br>".join(HELP[k] for k in HELP_ORDER), "insideHelp",
                        "Explanation of the panels")
    view._help.setTextFormat(Qt.TextFormat.RichText)
    view._help.setWordWrap(True)
    view._help.setAlignment(Qt.AlignmentFlag.AlignTop)
    view._help.setMargin(8)
    help_scroll = QScrollArea()
    help_scroll.setObjectName("insideHelpScroll")
    help_scroll.setWidget(view._help)
    help_scroll.setWidgetResizable(True)
    help_scroll.setMinimumWidth(220)
    view._help_button.toggled.connect(help_scroll.setVisible)
    view._help_chosen = None  # the user's own Help choice (None: fold it away when the view is narrow)
    view._help_button.clicked.connect(lambda on: setattr(view, "_help_chosen", on))
    # the plots never shrink below what shows every panel whole (digit, attention, readout, occlusion;
    # three gate heatmaps a row): narrower than that, beside the pad or in a small window, they scroll
    plots.setMinimumSize(PLOTS_MIN_WIDTH, PLOTS_MIN_HEIGHT)
    plots_scroll = QScrollArea()
    plots_scroll.setObjectName("insidePlotsScroll")
    plots_scroll.setWidget(plots)
    plots_scroll.setWidgetResizable(True)
    plots_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    view._plots_scroll = plots_scroll
    body = QSplitter(Qt.Orientation.Horizontal)
    body.setChildrenCollapsible(False)
    body.addWidget(plots_scroll)
    body.addWidget(help_scroll)
    body.setStretchFactor(0, 4)
    body.setStretchFactor(1, 1)
    layout = QVBoxLayout(view)
    layout.addWidget(view._summary)
    layout.addLayout(view._controls)
    layout.addWidget(body, 1)
    for w in (view._top, view._gates_widget):
        w.scene().sigMouseMoved.connect(partial(view._on_mouse_moved, w.scene()))


PLOTS_MIN_WIDTH, PLOTS_MIN_HEIGHT = 730, 480
COMPACT_WIDTH = 900  # narrower than this (beside the pad, a small window) the help would take the plots' room


def fit_help(view) -> None:
    """Fold the help panel away when the view is narrow, open it when wide; "? Help" still opens it,
    and a choice the user made with it wins."""
    if view._help_chosen is None:
        wide = view.width() >= COMPACT_WIDTH
        if view._help_button.isChecked() != wide:
            view._help_button.setChecked(wide)
