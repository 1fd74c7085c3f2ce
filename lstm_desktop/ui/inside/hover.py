"""The text under the mouse in the "Inside the LSTM" view: which panel, row and column, and the
value there. Gate columns are reported with the unit they show, since the columns may be sorted, and
with the state they show (a GRU's first heatmap is its reset gate)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

from lstm_desktop.core.models.introspect import Explanation


def describe_point(ex: Explanation, pos: QPointF, plots: Iterable[tuple[pg.PlotItem, str]],
                   shown: dict[str, tuple[str, np.ndarray]], order: np.ndarray, scene=None,
                   row_word: str = "row") -> str:
    """What is under scene position pos (of `scene`, or of the scene of the plot found). row_word:
    what a time step is called ("row" of an image, "step" of a sequence).

    plots: each plot with what it shows ("digit", "attention", "readout", "occlusion", or the name
    of a heatmap); shown: each heatmap's state name and values; order: the heatmaps' column order."""
    T = len(ex.readout)
    for plot, kind in plots:
        vb = plot.getViewBox()
        if (vb.scene() is None or (scene is not None and vb.scene() is not scene)
                or not vb.sceneBoundingRect().contains(pos)):
            continue
        pt = vb.mapSceneToView(pos)
        row = int(round(pt.y()))
        if not 1 <= row <= T:
            return ""
        if kind == "digit":
            col = int(round(pt.x()))
            if 1 <= col <= ex.image.shape[1]:
                return f"{row_word} {row}, column {col}: pixel {ex.image[row - 1, col - 1]:+.2f}"
            return ""
        if kind == "attention":
            return "" if ex.attention is None else f"{row_word} {row}: attention weight {ex.attention[row - 1]:.3f}"
        if kind == "readout":
            digit = int(round(pt.x()))
            if 0 <= digit < ex.readout.shape[1]:
                return f"after {row_word} {row}: p({digit}) = {ex.readout[row - 1, digit]:.3f}"
            return ""
        if kind == "occlusion":
            return f"{row_word} {row} blanked: p({ex.predicted}) changes by {ex.occlusion[row - 1]:+.3f}"
        return _describe_unit(shown, order, kind, row, int(round(pt.x())), row_word)
    return ""


def _describe_unit(shown: dict[str, tuple[str, np.ndarray]], order: np.ndarray, kind: str, row: int,
                   column: int, row_word: str = "row") -> str:
    if kind not in shown:
        return ""
    state, values = shown[kind]
    if not 0 <= column < values.shape[1]:
        return ""
    unit = int(order[column]) if column < len(order) else column
    value = values[row - 1, unit]
    if unit == column:
        return f"{row_word} {row}, unit {unit}: {state} = {value:+.3f}"
    return f"{row_word} {row}, unit {unit} (column {column}, sorted): {state} = {value:+.3f}"
