"""Which run each view shows: the Train tab shows the run being trained (or the last one trained)
and names it; clicking a run in the Results tab never changes it (issue 27: RNN curves beside
"Run 10 finished")."""

from __future__ import annotations

from ui_helpers import train


def test_the_train_tab_names_the_run_it_shows_and_results_clicks_do_not_change_it(qtbot, window, tiny_config):
    label = window.train_tab.run_label
    assert label.objectName() == "trainRunLabel"
    older = train(qtbot, window, tiny_config(epochs=2, cell="rnn"))
    newer = train(qtbot, window, tiny_config(epochs=1, cell="lstm", hidden=12))
    assert newer.id != older.id
    text = label.text()
    assert text.startswith(newer.name) and "digits" in text and newer.variant in text and "finished" in text
    assert window.controls.message.text().startswith(f"{newer.name} finished")
    assert window.plots.counts()["epochs"] == newer.epochs_done == 1
    assert window.plots.run_id == f"run {newer.id}"
    # the older run carries a gradient-flow measurement the newer one does not
    window.runs.update(older, gradient_flow=[(0.5, [1.0, 2.0, 3.0])])
    shown_flow = list(window.gradient_view.measurements)

    window.runs_panel.select(older.id)  # a click in Results
    assert window.metrics_view.title.text().startswith(older.name)  # Results shows the clicked run
    assert label.text() == text  # the Train tab still names the run it trained last
    assert window.plots.counts()["epochs"] == 1, "the Train tab's curves switched to the clicked run"
    assert window.plots.run_id == f"run {newer.id}"
    assert list(window.gradient_view.measurements) == shown_flow

    # renaming the shown run renames it above the curves
    window.run_editor.rename(newer.id, "my small LSTM")
    assert label.text().startswith("my small LSTM · digits")


def test_before_any_training_the_train_tab_says_it_shows_no_run(window):
    assert "No run trained in this window" in window.train_tab.run_label.text()
