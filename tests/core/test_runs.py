"""The Qt-free run model: a Runs collection emits added/changed/removed; Run fields follow the config."""

from __future__ import annotations

import pytest

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.runs.evented_runs import Run, Runs, RunStatus, Signal


def test_signal_connect_emit_disconnect_and_a_raising_slot_does_not_starve_the_rest():
    sig, got = Signal(), []
    sig.connect(lambda x: got.append(("a", x)))

    def bad(x):
        raise RuntimeError("boom")

    sig.connect(bad)
    last = sig.connect(lambda x: got.append(("c", x)))
    with pytest.raises(RuntimeError):
        sig.emit(1)
    assert got == [("a", 1), ("c", 1)]
    sig.disconnect(bad)
    sig.disconnect(last)
    sig.emit(2)
    assert got[-1] == ("a", 2) and len(sig) == 1


def test_run_takes_dataset_variant_and_epochs_from_its_config():
    run = Run(3, config=TrainConfig.for_dataset("digits", hidden=16, epochs=4))
    assert (run.name, run.dataset, run.variant, run.epochs_total) == ("Run 3", "digits", "LSTM (16)", 4)
    assert run.status is RunStatus.QUEUED and run.status.active and run.accuracy is None
    assert not RunStatus.INTERRUPTED.active and str(RunStatus.FINISHED) == "finished"
    assert run.summary()["config"]["hidden"] == 16 and "history" not in run.summary()


def test_collection_events_name_only_what_changed():
    runs, log = Runs(), []
    runs.events.added.connect(lambda r: log.append(("added", r.id)))
    runs.events.changed.connect(lambda r, names: log.append(("changed", r.id, names)))
    runs.events.removed.connect(lambda r: log.append(("removed", r.id)))
    run = runs.add(Run(1))
    assert runs.update(run, status="running", name="Run 1") == ("status",)  # the name did not change
    assert run.status is RunStatus.RUNNING
    assert runs.update(run, status=RunStatus.RUNNING) == ()  # nothing changed: no event
    run.history.setdefault("batch_loss", []).append(1.0)
    runs.touch(run, "history")
    runs.remove(1)
    assert log == [("added", 1), ("changed", 1, ("status",)), ("changed", 1, ("history",)), ("removed", 1)]
    assert len(runs) == 0 and runs.get(1) is None and runs.remove(1) is None


def test_collection_refuses_duplicates_and_unknown_fields_and_gives_fresh_ids():
    runs = Runs([Run(4), Run(9)])
    assert runs.next_id() == 10 and [r.id for r in runs] == [4, 9] and 4 in runs
    with pytest.raises(ValueError):
        runs.add(Run(4))
    with pytest.raises(AttributeError):
        runs.update(runs[4], colour="red")
