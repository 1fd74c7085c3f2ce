"""The runs table filters in its own model (one pass, one reset): it keeps exactly the runs the
words, dataset, status, hidden and no-model rules keep, the selection of runs still shown
survives a keystroke, and sorting a filtered table sorts only what it shows."""

from __future__ import annotations

import json
import math

import pytest
from PySide6.QtCore import Qt

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.metrics import Metrics
from lstm_desktop.core.runs.evented_runs import Run, Runs, RunStatus
from lstm_desktop.core.runs.stored_run import accuracy_f1
from lstm_desktop.ui.runs_table_model import ACCURACY, RUN_ID_ROLE

CELLS = ("lstm", "gru", "rnn")


def make_runs(n: int = 30) -> Runs:
    runs = Runs()
    for i in range(1, n + 1):
        acc = 0.5 + ((i * 7) % n) / (2 * n)
        m = Metrics(accuracy=acc, precision=acc, recall=acc, f1=acc - 0.01, per_class=[], confusion=[], samples=10)
        status = RunStatus.FAILED if i % 10 == 0 else RunStatus.FINISHED
        runs.add(Run(i, f"run {i}", status, TrainConfig(dataset=("digits", "mnist")[i % 2], cell=CELLS[i % 3]),
                     metrics=m, epochs_done=0 if i % 10 == 0 else 3, tags=("hidden",) if i % 7 == 0 else ()))
    return runs


def shown(panel) -> list[int]:
    proxy = panel.proxy
    return [proxy.index(r, 0).data(RUN_ID_ROLE) for r in range(proxy.rowCount())]


@pytest.fixture
def panel(qtbot):
    from lstm_desktop.ui.widgets.runs_panel import RunsPanel

    panel = RunsPanel(make_runs())
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    return panel


def test_the_filter_keeps_what_each_rule_keeps(panel):
    runs = panel.runs
    # runs with a model and not hidden: i % 10 != 0 and i % 7 != 0
    assert sorted(shown(panel)) == [i for i in range(1, 31) if i % 10 and i % 7]
    panel.search.setText("gru")  # cell GRU: i % 3 == 1
    assert sorted(shown(panel)) == [i for i in range(1, 31) if i % 10 and i % 7 and i % 3 == 1]
    panel.dataset_filter.setCurrentIndex(panel.dataset_filter.findData("mnist"))  # odd i
    assert sorted(shown(panel)) == [i for i in range(1, 31) if i % 10 and i % 7 and i % 3 == 1 and i % 2]
    panel.search.setText("")
    panel.dataset_filter.setCurrentIndex(0)
    panel.show_hidden.setChecked(True)
    panel.modelless_check.setChecked(True)
    assert sorted(shown(panel)) == list(range(1, 31))
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("failed"))
    assert sorted(shown(panel)) == [10, 20, 30]
    assert all(runs.get(i).status is RunStatus.FAILED for i in shown(panel))


def test_a_keystroke_keeps_the_selection_of_runs_still_shown(panel):
    heard: list[list[int]] = []
    panel.selectionChanged.connect(heard.append)
    panel.select_many([1, 4, 5])  # 1 and 4 are GRUs (i % 3 == 1), 5 is not
    assert panel.selected_ids() == [1, 4, 5] and heard[-1] == [1, 4, 5]
    count = len(heard)
    panel.search.setText("gr")
    panel.search.setText("gru")  # both keep 1 and 4, drop 5: the comparison hears once
    assert panel.selected_ids() == [1, 4]
    assert heard[count:] == [[1, 4]]
    panel.search.setText("")
    assert panel.selected_ids() == [1, 4] and len(heard) == count + 1  # nothing changed: not told again


def test_sorting_a_filtered_table_sorts_what_it_shows(panel):
    panel.search.setText("lstm")  # i % 3 == 0
    panel.table.sortByColumn(ACCURACY, Qt.SortOrder.DescendingOrder)
    ids = shown(panel)
    assert sorted(ids) == [i for i in range(1, 31) if i % 10 and i % 7 and i % 3 == 0]
    accs = [panel.runs.get(i).metrics.accuracy for i in ids]
    assert accs == sorted(accs, reverse=True)
    panel.search.setText("")  # the runs filtered out come back in the sorted order
    accs = [panel.runs.get(i).metrics.accuracy for i in shown(panel)]
    assert accs == sorted(accs, reverse=True)


def test_hiding_a_shown_run_takes_its_row_out_and_showing_it_puts_it_back(panel):
    runs = panel.runs
    before = shown(panel)
    runs.update(runs.get(1), tags=("hidden",))
    assert 1 not in shown(panel) and len(shown(panel)) == len(before) - 1
    runs.update(runs.get(1), tags=())
    assert sorted(shown(panel)) == sorted(before)
    panel.select(7)  # hidden: shown anyway when asked for by id
    assert panel.current_id() == 7


@pytest.mark.parametrize("accuracy, f1", [(0.5, 1e-05), (1.0, 0.0), (0.123456789012, 0.98765), (math.nan, 0.5)])
def test_sort_keys_read_from_the_head_of_stored_metrics_match_a_full_parse(accuracy, f1):
    text = json.dumps(Metrics(accuracy, 0.2, 0.3, f1, [], [[1, 0], [0, 1]], 4).to_dict())
    got = accuracy_f1(text)
    want = json.loads(text)
    assert (got[0] == want["accuracy"] or (math.isnan(got[0]) and math.isnan(want["accuracy"]))) and got[1] == want["f1"]
    assert accuracy_f1('{"f1": 0.25, "accuracy": 0.75}') == (0.75, 0.25)  # another order: parsed whole
    assert accuracy_f1("not json") == (-1.0, -1.0)


def test_loading_runs_builds_no_filter_text_until_words_are_typed(qtbot, monkeypatch):
    """Filter texts parse each run's settings JSON: 10,000 of them were built at launch."""
    from lstm_desktop.ui import runs_table_model
    from lstm_desktop.ui.widgets.runs_panel import RunsPanel

    built = []
    real = runs_table_model.haystack_of
    monkeypatch.setattr(runs_table_model, "haystack_of", lambda run: built.append(run.id) or real(run))
    runs = Runs()
    panel = RunsPanel(runs)
    qtbot.addWidget(panel)
    panel.model.begin_bulk()
    for run in make_runs():
        runs.add(run)
    panel.model.end_bulk()
    panel.model._warm_timer.stop()  # no idle time in this test: what launch itself built
    assert built == [] and sorted(shown(panel)) == [i for i in range(1, 31) if i % 10 and i % 7]
    panel.search.setText("gru")
    assert sorted(shown(panel)) == [i for i in range(1, 31) if i % 10 and i % 7 and i % 3 == 1]
    assert sorted(built) == list(range(1, 31))  # built once each, when words were first typed
    panel.search.setText("gru seed")
    assert len(built) == 30
