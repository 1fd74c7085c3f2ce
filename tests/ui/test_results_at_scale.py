"""The Results tab with many runs: best-epoch columns, sorting with pinned runs on top, hiding,
filtering as you type, the one-click diff of two runs and brushing in the parallel-coordinates view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.metrics import Metrics
from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.ui.runs_table_model import ACCURACY, BEST, BEST_EPOCH, NAME, RUN_ID_ROLE


def make_runs(n: int = 8) -> Runs:
    runs = Runs()
    for i in range(1, n + 1):
        acc = 0.5 + i / 100
        m = Metrics(accuracy=acc, precision=acc, recall=acc, f1=acc, per_class=[], confusion=[], samples=10)
        val = [0.4, acc + 0.01, acc] if i % 2 else [0.4, 0.45, acc + 0.02]
        runs.add(Run(i, config=TrainConfig(dataset="digits", lr=10.0 ** -(2 + i % 3), cell=("gru", "lstm")[i % 2]),
                     metrics=m, status="finished", seconds=float(i),
                     history={"epoch": [1.0, 2.0, 3.0], "val_accuracy": val}))
    return runs


@pytest.fixture
def tab(qtbot):
    from lstm_desktop.ui.results_tab import ResultsTab

    tab = ResultsTab(make_runs())
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    tab.show()
    return tab


def column(tab, col: int) -> list[str]:
    proxy = tab.runs_panel.proxy
    return [proxy.index(r, col).data() for r in range(proxy.rowCount())]


def ids(tab) -> list[int]:
    proxy = tab.runs_panel.proxy
    return [proxy.index(r, 0).data(RUN_ID_ROLE) for r in range(proxy.rowCount())]


def test_best_epoch_columns_beside_the_final_ones(tab):
    model = tab.runs_panel.model
    row = model.row_of(2)  # val accuracy 0.40, 0.45, 0.54: best at epoch 3
    assert model.index(row, BEST).data() == "54.00%" and model.index(row, BEST_EPOCH).data() == "3"
    row = model.row_of(3)  # 0.40, 0.54, 0.53: best at epoch 2, not the last
    assert model.index(row, BEST).data() == "54.00%" and model.index(row, BEST_EPOCH).data() == "2"
    assert model.index(row, ACCURACY).data() == "53.00%"


def test_sorting_keeps_pinned_runs_on_top_and_hidden_runs_out(tab):
    panel = tab.runs_panel
    tab.set_tag([3], "pinned", True)
    panel.table.sortByColumn(ACCURACY, Qt.SortOrder.DescendingOrder)
    assert ids(tab) == [3, 8, 7, 6, 5, 4, 2, 1]
    panel.table.sortByColumn(ACCURACY, Qt.SortOrder.AscendingOrder)
    assert ids(tab) == [3, 1, 2, 4, 5, 6, 7, 8]
    assert column(tab, NAME)[0].endswith("Run 3") and column(tab, NAME)[0] != "Run 3"  # the pin is shown
    tab.set_tag([1, 2], "hidden", True)
    assert ids(tab) == [3, 4, 5, 6, 7, 8]
    panel.show_hidden.setChecked(True)
    assert sorted(ids(tab)) == list(range(1, 9))
    tab.set_tag([3], "pinned", False)
    assert ids(tab)[0] == 1


def test_the_table_filters_as_you_type(tab, qtbot):
    qtbot.keyClicks(tab.runs_panel.search, "gru")
    assert sorted(ids(tab)) == [2, 4, 6, 8]
    qtbot.keyClicks(tab.runs_panel.search, " 0.001")
    assert ids(tab) == [4]  # lr 1e-3 (runs 1, 4, 7) and a GRU (even runs)


def test_one_click_diff_of_two_selected_runs(tab, qtbot):
    panel = tab.runs_panel
    panel.select_many([2, 5])
    assert panel.diff_button.isEnabled()
    qtbot.mouseClick(panel.diff_button, Qt.MouseButton.LeftButton)
    assert tab.compare_tabs.currentWidget() is tab.diff
    rows = {r.name: r for r in tab.diff.rows}
    assert rows["Test accuracy"].delta == "+3.00 pt" and rows["Cell"].a == "gru" and rows["Cell"].b == "lstm"
    assert "Hidden size" not in rows and tab.diff.table.rowCount() > len(rows)  # section rows too


def test_brushing_an_axis_selects_the_runs_inside(tab):
    tab.runs_panel.select_many(list(range(1, 9)))
    tab.compare_tabs.setCurrentWidget(tab.parallel)
    view = tab.parallel
    keys = [a.key for a in view.axes]
    assert "lr" in keys and view.axes[keys.index("lr")].log
    view.drag_brush(keys.index("accuracy"), 0.5, 1.0)  # the upper half of test accuracy
    assert tab.runs_panel.selected_ids() == [5, 6, 7, 8]
    assert len(view.runs) == 8  # the view keeps showing every run it was given
    view.clear_brush()
    assert tab.runs_panel.selected_ids() == list(range(1, 9))


def test_stored_runs_get_their_best_epoch_from_one_query(tab, tmp_path):
    from lstm_desktop.core.runs.run_data import best_epochs
    from lstm_desktop.core.runs.store import open_store

    store = open_store(tmp_path / "home")
    first = store.create_run(TrainConfig(dataset="digits"), status="finished")
    store.append_curves(first.id, {"epoch": [1.0, 2.0], "val_accuracy": [0.7, 0.6]})
    store.append_curves(first.id, {"epoch": [3.0], "val_accuracy": [0.65]})
    second = store.create_run(TrainConfig(dataset="digits"), status="finished")
    assert best_epochs(store) == {first.id: (0.7, 1)}
    assert best_epochs(store, [second.id]) == {}


def test_the_tab_reads_stored_best_epochs_while_idle(qtbot, tmp_path):
    from lstm_desktop.core.runs.store import open_store
    from lstm_desktop.ui.results_tab import ResultsTab

    store = open_store(tmp_path / "home")
    for val in ([0.5, 0.8, 0.7], [0.6, 0.65, 0.9]):
        made = store.create_run(TrainConfig(dataset="digits"), status="finished")
        store.append_curves(made.id, {"epoch": [1.0, 2.0, 3.0], "val_accuracy": val})
    runs = Runs(store.load_runs())  # listed without curves, as at launch
    tab = ResultsTab(runs)
    qtbot.addWidget(tab)
    model = tab.runs_panel.model
    tab.set_store(store)
    qtbot.waitUntil(lambda: model.index(model.row_of(1), BEST_EPOCH).data() == "2", timeout=5000)
    assert model.index(model.row_of(1), BEST).data() == "80.00%"
    assert model.index(model.row_of(2), BEST_EPOCH).data() == "3"


def test_the_settings_table_is_built_when_looked_at(tab):
    tab.compare_tabs.setCurrentWidget(tab.parallel)
    tab.runs_panel.select_many([1, 2, 3])
    assert tab.hyperparams.rowCount() == 0  # not built while another view is shown
    tab.compare_tabs.setCurrentWidget(tab.hyperparams)
    assert tab.hyperparams.rowCount() == 3 and "Cell" in tab.hyperparams.columns
