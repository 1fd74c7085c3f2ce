"""core/runs/interrupted.py: which interrupted runs are news at a launch, what the notice says they kept,
and which runs stay remembered as told."""

from __future__ import annotations

from lstm_desktop.core.runs.interrupted import newly_interrupted, notice, remembered, run_key
from lstm_desktop.core.runs.evented_runs import Run, RunStatus


def runs() -> list[Run]:
    return [Run(1, status=RunStatus.FINISHED, epochs_done=5, epochs_total=5, created="2026-12-01T10:00:00+00:00"),
            Run(2, status=RunStatus.INTERRUPTED, epochs_done=3, epochs_total=10, created="2026-12-01T11:00:00+00:00",
                checkpoint_path="runs/2/model.pt"),
            Run(3, status=RunStatus.INTERRUPTED, epochs_done=0, epochs_total=4, created="2026-12-01T12:00:00+00:00"),
            Run(4, status=RunStatus.INTERRUPTED, epochs_done=2, created="2026-12-01T13:00:00+00:00",
                deleted_at="2026-12-02T09:00:00+00:00")]


def has_file(run: Run) -> bool:
    return bool(run.checkpoint_path)


def test_the_interrupted_runs_not_told_are_news_with_what_they_kept():
    items = newly_interrupted(runs(), [], has_file)
    assert [(i.run_id, i.epochs_done, i.epochs_total, i.has_model) for i in items] == [(2, 3, 10, True),
                                                                                        (3, 0, 4, False)]
    message, hint = notice(items)
    assert message.startswith("2 runs were interrupted")
    assert hint == "Run 2: epoch 3 of 10 kept; Run 3: no epoch finished, no model."


def test_a_told_run_is_not_news_again_but_a_new_run_with_a_reused_id_is():
    all_runs = runs()
    first = newly_interrupted(all_runs, [], has_file)
    told = remembered(all_runs, [], first)
    assert told == sorted(run_key(r) for r in all_runs[1:3])
    assert newly_interrupted(all_runs, told, has_file) == []
    reused = Run(3, status=RunStatus.INTERRUPTED, epochs_done=1, created="2026-12-03T08:00:00+00:00")
    again = newly_interrupted([*all_runs[:2], reused], told, lambda r: True)
    assert [(i.run_id, i.epochs_done) for i in again] == [(3, 1)]


def test_many_runs_name_the_latest_three_and_count_the_rest():
    many = [Run(i, status=RunStatus.INTERRUPTED, epochs_done=1, created=f"t{i}") for i in range(1, 7)]
    message, hint = notice(newly_interrupted(many, [], lambda run: True))
    assert message.startswith("6 runs were interrupted")
    assert hint == "Run 4: epoch 1 kept; Run 5: epoch 1 kept; Run 6: epoch 1 kept; 3 more in Results."


def test_told_keys_are_forgotten_once_their_runs_are_no_longer_interrupted():
    all_runs = runs()
    told = remembered(all_runs, ["99@gone"], newly_interrupted(all_runs, [], has_file))
    all_runs[1].status = RunStatus.FINISHED  # e.g. deleted for good, or resumed and finished
    assert remembered(all_runs, told, []) == [run_key(all_runs[2])]


def test_one_run_gets_a_sentence_of_its_own_and_a_model_whose_file_is_gone_is_not_promised():
    items = newly_interrupted(runs()[:2], [], lambda run: False)
    message, hint = notice(items)
    assert message == "Run 2 was interrupted: a crash or a kill ended its process."
    assert hint == "3 of 10 epochs had finished, but its model file is missing."
    kept = notice(newly_interrupted(runs()[:2], [], has_file))[1]
    assert kept == "Its last finished epoch (3 of 10) is kept as its model."
