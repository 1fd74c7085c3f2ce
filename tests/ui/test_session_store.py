"""Without a usable run store the window still records each run the one way it always does (the
recorder, into a session store in a temporary folder): its status, curves and metrics are there for
the session, and the user is told the runs will not be kept (issue 27: no second run tracker)."""

from __future__ import annotations

TRAIN_TIMEOUT_MS = 120_000


def test_an_unusable_store_records_into_a_session_store(qtbot, make_window, tmp_path, monkeypatch, tiny_config):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the run store's folder should be")
    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(blocked))
    window = make_window()
    from lstm_desktop.ui import store_bridge

    store = window.store
    assert store is not None and store_bridge.is_temporary(store)
    assert not str(store.home).startswith(str(blocked))
    assert "will not be kept" in window.state_label.text() or "will not be kept" in window.error_banner.text

    with qtbot.waitSignal(window.trainingFinished, timeout=TRAIN_TIMEOUT_MS):
        run = window.start_training(tiny_config(epochs=2))
        assert run is not None
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=10_000)
    assert str(run.status) == "finished" and run.epochs_done == 2 and run.metrics is not None
    assert run.history["epoch"] == [1.0, 2.0]
    stored = store.get_run(run.id)  # the recorder wrote the same run to the session store
    assert str(stored.status) == "finished" and stored.epochs_done == 2
    assert stored.metrics.accuracy == run.metrics.accuracy
    assert store.get_curves(run.id)["epoch"] == [1.0, 2.0]
    assert blocked.read_text().startswith("a file")  # nothing written where the user's store would be
