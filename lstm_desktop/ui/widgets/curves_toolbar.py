"""The row of controls above the live curves: smoothing, log scale, the crosshair readout and the
export buttons. Only widgets; LivePlots connects them (so the object names stay where automation
looks for them)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QWidget

from lstm_desktop.ui.widgets.common import muted, named


class CurvesToolbar(QWidget):
    """Smoothing slider and value, log-scale check, readout label, PNG and CSV buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("curvesToolbar")
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(8)
        bar.addWidget(QLabel("Smoothing"))
        self.smoothing_slider = named(QSlider(Qt.Orientation.Horizontal), "smoothingSlider",
                                      "Loss smoothing", "Weight of the exponential moving average drawn "
                                      "over the raw batch loss (0: none)")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(90)
        self.smoothing_slider.setFixedWidth(140)
        bar.addWidget(self.smoothing_slider)
        self.smoothing_value = QLabel("0.90")
        self.smoothing_value.setMinimumWidth(32)
        bar.addWidget(self.smoothing_value)
        self.log_check = named(QCheckBox("Log scale"), "logScaleCheck", "Logarithmic loss axis",
                               "Show the loss on a logarithmic axis")
        bar.addWidget(self.log_check)
        bar.addStretch(1)
        self.readout = named(muted("", wrap=False), "crosshairReadout", "Values under the cursor")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a long readout is cut at the right, never widens the window (hovering a plot did)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.readout, 4)
        self.export_png_button = named(QPushButton("PNG…"), "exportPngButton", "Export curves as PNG",
                                       "Save the plots as an image at twice the screen resolution")
        self.export_csv_button = named(QPushButton("CSV…"), "exportCsvButton", "Export curves as CSV",
                                       "Save every curve as comma-separated values, with the run "
                                       "they belong to (Ctrl+E)")
        bar.addWidget(self.export_png_button)
        bar.addWidget(self.export_csv_button)
