"""The diff of two runs: only the settings, run facts and results that differ, with the results'
deltas (B - A) coloured by whether B is better. The rows come from core/run_compare.diff_runs."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from lstm_desktop.core.runs.run_compare import DiffRow, diff_runs
from lstm_desktop.core.runs.evented_runs import Run
from lstm_desktop.ui.theme import is_dark
from lstm_desktop.ui.widgets.common import heading, muted, named

BETTER = {False: "#1a7f37", True: "#57d07a"}  # by dark theme: green that reads on either background
WORSE = {False: "#c62828", True: "#ff7b72"}


class RunDiffView(QWidget):
    """Two runs side by side, what differs only. Empty (with a hint) unless exactly two are given."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runDiffView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = heading("Diff of two runs", 0)
        self.hint = muted("Select exactly two runs and click Diff (or open this tab) to see only what differs.")
        self.table = named(QTableWidget(0, 4), "runDiffTable", "What differs between the two runs",
                           "Settings, run facts and results that differ; Δ is the second run minus the first")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        self.rows: list[DiffRow] = []
        self.pair: tuple[Run, Run] | None = None
        self._best = None
        self.set_runs([])

    def set_runs(self, runs: list[Run], best=None) -> None:
        """Diff runs[0] (A) against runs[1] (B); anything but two runs clears the table."""
        self._best = best
        if len(runs) != 2:
            self.pair, self.rows = None, []
            self.title.setText("Diff of two runs")
            self.hint.setText("Select exactly two runs to see only what differs between them."
                              if len(runs) != 2 else "")
            self.hint.setVisible(True)
            self.table.setRowCount(0)
            return
        a, b = runs
        self.pair = (a, b)
        self.rows = diff_runs(a, b, best) if best is not None else diff_runs(a, b)
        self.title.setText(f"A: {a.name} (run {a.id})   vs   B: {b.name} (run {b.id})")
        self.hint.setText("" if self.rows else "These two runs have the same settings and results.")
        self.hint.setVisible(not self.rows)
        self._fill()

    def _fill(self) -> None:
        if self.pair is None:
            return
        a, b = self.pair
        dark = is_dark(self.palette())
        self.table.setHorizontalHeaderLabels(["", f"A: {a.name}", f"B: {b.name}", "Δ (B − A)"])
        self.table.setRowCount(0)
        section = ""
        bold = QFont(self.font())
        bold.setBold(True)
        for row in self.rows:
            if row.section != section:  # a section title row
                section = row.section
                r = self.table.rowCount()
                self.table.insertRow(r)
                item = QTableWidgetItem(section)
                item.setFont(bold)
                self.table.setItem(r, 0, item)
            r = self.table.rowCount()
            self.table.insertRow(r)
            for c, text in enumerate((row.name, row.a, row.b, row.delta)):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 3 and row.better:
                    item.setForeground(QBrush(QColor((BETTER if row.better > 0 else WORSE)[dark])))
                    item.setToolTip("B is better" if row.better > 0 else "B is worse")
                self.table.setItem(r, c, item)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._fill()  # the delta colours follow the theme
