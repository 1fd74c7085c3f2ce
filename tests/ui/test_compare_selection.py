"""Comparing a selection of stored runs: 20 selected runs show their 20 curves, read from the store
in one query and drawn with the values that were stored; a redraw of what is already shown touches
nothing; runs on two datasets share the pane."""

from __future__ import annotations

import pytest

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.runs.evented_runs import Runs


@pytest.fixture
def stored(qtbot, tmp_path):
    """A Results tab over 30 stored runs (listed without curves, as at launch) and what each run's
    validation accuracy was when stored."""
    from lstm_desktop.core.runs.store import open_store
    from lstm_desktop.ui.results_tab import ResultsTab

    store = open_store(tmp_path / "home")
    written = {}
    for k in range(30):
        run = store.create_run(TrainConfig(dataset=("digits", "mnist")[k % 2]), status="finished")
        val = [0.5 + k / 100, 0.6 + k / 200, 0.55 + k / 300]
        store.append_curves(run.id, {"epoch": [1.0, 2.0, 3.0], "val_accuracy": val})
        store.update(run.id, epochs_done=3)
        written[run.id] = val
    tab = ResultsTab(Runs(store.load_runs()))
    qtbot.addWidget(tab)
    tab.set_store(store)
    tab.resize(1300, 900)
    tab.show()
    return tab, store, written


def test_selecting_20_runs_shows_their_20_curves_from_one_read(stored, monkeypatch):
    tab, store, written = stored
    reads = []
    real = store.curves_of

    def counted(ids):
        reads.append(list(ids))
        return real(reads[-1])

    monkeypatch.setattr(store, "curves_of", counted)
    monkeypatch.setattr(store, "get_curves", lambda _id: pytest.fail("read run by run"))
    pick = sorted(written)[5:25]
    tab.compare_tabs.setCurrentWidget(tab.comparison)
    tab.runs_panel.select_many(pick)
    assert len(reads) == 1 and sorted(reads[0]) == pick  # one query for the selection
    assert tab.comparison.curve_count() == 20
    assert sorted(tab.comparison.datasets) == ["digits", "mnist"]
    drawn = {}
    for plot in tab.comparison.plots:
        if plot.isHidden():
            continue
        labels = plot.legend_labels()
        curves = [c for c in plot._curves if c.isVisible()]
        assert len(labels) == len(curves)
        for label, curve in zip(labels, curves):
            drawn[label] = list(curve.getData()[1])
    assert len(drawn) == 20
    for run_id in pick:
        run = tab.runs.get(run_id)
        assert drawn[str(run.label)] == pytest.approx([v * 100 for v in written[run_id]])


def test_a_redraw_of_what_is_shown_touches_no_curve(stored, monkeypatch):
    tab, _store, written = stored
    tab.compare_tabs.setCurrentWidget(tab.comparison)
    tab.runs_panel.select_many(sorted(written)[:4])
    plot = tab.comparison.plots[0]
    calls = []
    for curve in plot._curves:
        monkeypatch.setattr(curve, "setData", lambda *a, **k: calls.append(a))
    plot.redraw()
    assert calls == []  # the same runs, values and theme
    run = tab.runs.get(plot._runs[0].id)
    tab.runs.update(run, name="renamed")  # a label changed: drawn again
    assert calls and any(label.startswith("renamed") or "renamed" in label for label in plot.legend_labels())


def test_runs_on_two_datasets_share_the_pane(stored):
    from lstm_desktop.ui.results_tab import PLOT_HEIGHT

    tab, _store, written = stored
    tab.compare_tabs.setCurrentWidget(tab.comparison)
    ids = sorted(written)
    tab.runs_panel.select_many(ids[:4])  # both datasets
    shown = [p for p in tab.comparison.plots if not p.isHidden()]
    assert len(shown) == 2 and all(p.plot_widget.minimumHeight() < PLOT_HEIGHT for p in shown)
    tab.runs_panel.select_many([ids[0], ids[2]])  # one dataset: a plot alone keeps its height
    shown = [p for p in tab.comparison.plots if not p.isHidden()]
    assert len(shown) == 1 and shown[0].plot_widget.minimumHeight() == PLOT_HEIGHT


def test_curve_items_made_ahead_are_not_counted_or_drawn_until_used(stored):
    tab, _store, written = stored
    while tab.comparison.prepare_plot():  # what the idle timer does after the tab is first shown
        pass
    tab.compare_tabs.setCurrentWidget(tab.comparison)
    pick = sorted(written)[:6]
    tab.runs_panel.select_many(pick)
    assert tab.comparison.curve_count() == 6
    assert all(len(p._curves) >= 20 for p in tab.comparison.plots[:2])


def test_a_selected_run_that_trains_fast_redraws_the_views_a_few_times_not_every_epoch(stored, qtbot, monkeypatch):
    """A digits run ends 20 epochs a second: redrawing every selection view on each (seen: 100-800 ms
    of GUI-thread time a second with 200 epochs) starved the window. The last change still shows."""
    tab, store, written = stored
    run = tab.runs.get(min(written))
    tab.runs_panel.select(run.id)
    qtbot.wait(300)  # the selection's own redraw has passed
    drawn = []
    monkeypatch.setattr(tab.diff, "set_runs", lambda runs, best: drawn.append([r.epochs_done for r in runs]))
    for epoch in range(4, 24):
        tab.runs.update(run, epochs_done=epoch)
    assert 1 <= len(drawn) <= 2
    qtbot.waitUntil(lambda: drawn and drawn[-1] == [23], timeout=2000)
    assert len(drawn) <= 3
