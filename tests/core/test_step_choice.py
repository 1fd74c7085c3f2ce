"""The engine picks its CPU step by timing the candidates, remembers the winner per machine and
shape, and says which step it used; timing touches neither the run's weights nor its random streams."""

from __future__ import annotations

import pytest
import torch
from kernel_reference import small

from lstm_desktop.core.steps import fast_path
from lstm_desktop.core.steps import step_choice
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.training.engine import Trainer
from lstm_desktop.core.training.events import FitStarted
from lstm_desktop.core.training.optim import make_optimizer
from lstm_desktop.core.steps.step_choice import Candidate, ChoiceCache
from lstm_desktop.core.steps.torch_steps import SerialStep, SplitStep


@pytest.fixture
def measuring(monkeypatch, tmp_path):
    monkeypatch.setenv(step_choice.CHOICE_ENV, "measure")
    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(tmp_path))
    monkeypatch.setattr(step_choice.os, "getloadavg", lambda: (0.3, 0.3, 0.3))  # a quiet machine, whatever this one is doing
    before = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(before)


def test_candidates_list_the_rules_pick_first_and_leave_out_splits_with_dropout():
    plain = small("plain")
    options = fast_path.candidates(plain, threads=16, batch_size=64, kernel=True)
    assert options[0] == fast_path.rule_choice(plain, 16, 64, True) == Candidate("split", 4, 4)
    assert {Candidate("kernel", p, 1) for p in (1, 2, 4)} <= set(options)
    # 16 cores, at most 4 parts of 16 samples: the kernel also with the cores shared out inside the parts
    assert Candidate("kernel", 4, 4) in options and Candidate("kernel", 4, 4).name == "C kernel in 4 parts of 4 threads"
    # as many parts as cores can be made: no threads inside them (measured: oversubscribed, 15-20x slower)
    assert all(c.threads_each == 1 for c in fast_path.candidates(plain, 2, 64, kernel=True) if c.kind == "kernel")
    assert Candidate("kernel", 1, 2) in fast_path.candidates(plain, 2, 16, kernel=True)
    assert Candidate("serial", 1, 16) in options and len(set(options)) == len(options)
    dropout = small("stacked", dropout=0.2)
    assert all(c.kind != "split" for c in fast_path.candidates(dropout, 16, 64, kernel=False))
    assert fast_path.candidates(plain, 1, 64, kernel=False) == [Candidate("serial", 1, 1)]


def test_the_fastest_candidate_is_built_remembered_and_reused_without_timing(measuring, monkeypatch):
    torch.set_num_threads(4)
    model = small("plain")
    cfg = TrainConfig(lr=1e-2)
    timed: list[str] = []
    costs = {"split:2:2": 0.5, "serial:1:4": 0.2}

    def fake_times(builds, x, y):
        seconds = []
        for build in builds:
            step = build()
            key = {SplitStep: f"split:{getattr(step, 'parts', 0)}:{step.threads_each}"}.get(type(step), None)
            key = key or ("serial:1:4" if type(step) is SerialStep else "kernel")
            step.close()
            timed.append(key)
            seconds.append(costs.get(key, 1.0))
        return seconds

    monkeypatch.setattr(step_choice, "time_candidates", fake_times)
    first = fast_path.make_step(model, model, make_optimizer(model, cfg, torch.device("cpu")), cfg,
                                torch.device("cpu"), 64, data_parallel=False)
    assert type(first) is SerialStep and first.description == "torch serial on 4 threads, measured"
    assert "split:2:2" in timed and "serial:1:4" in timed
    first.close()
    monkeypatch.setattr(step_choice, "time_candidates", lambda *a: pytest.fail("timed again"))
    again = fast_path.make_step(model, model, make_optimizer(model, cfg, torch.device("cpu")), cfg,
                                torch.device("cpu"), 64, data_parallel=False)
    assert type(again) is SerialStep and "measured earlier on this machine" in again.description
    again.close()
    assert len(ChoiceCache(measuring / step_choice.CACHE_NAME)._read()) == 1


def test_a_choice_timed_while_other_programs_keep_the_cores_busy_is_used_but_not_remembered(measuring, monkeypatch):
    torch.set_num_threads(2)
    model = small("plain")
    cfg = TrainConfig(lr=1e-2)
    monkeypatch.setattr(step_choice, "time_candidates", lambda builds, x, y: [1.0] * len(builds))
    monkeypatch.setattr(step_choice.os, "getloadavg", lambda: (2.1, 1.9, 1.2))  # one other busy program + us
    step = fast_path.make_step(model, model, make_optimizer(model, cfg, torch.device("cpu")), cfg,
                               torch.device("cpu"), 64, data_parallel=False)
    step.close()
    assert step.description.endswith("measured on a busy machine, not remembered")
    assert ChoiceCache(measuring / step_choice.CACHE_NAME)._read() == {}
    monkeypatch.setattr(step_choice.os, "getloadavg", lambda: (0.4, 0.5, 0.5))  # quiet: timed again, kept
    step = fast_path.make_step(model, model, make_optimizer(model, cfg, torch.device("cpu")), cfg,
                               torch.device("cpu"), 64, data_parallel=False)
    step.close()
    assert step.description.endswith(", measured") and len(ChoiceCache(measuring / step_choice.CACHE_NAME)._read()) == 1


def test_timing_leaves_the_weights_the_random_stream_and_the_thread_count_alone(measuring):
    torch.set_num_threads(2)
    model = small("bi-attention")
    cfg = TrainConfig(lr=1e-2)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    best, seconds = step_choice.fastest(
        fast_path.candidates(model, 2, 32, kernel=False), model, lambda m: make_optimizer(m, cfg, torch.device("cpu")),
        lambda c, m, o: fast_path.build(c, m, m, o, cfg, None), torch.randn(32, 7, 8, generator=torch.Generator()),
        torch.randint(0, 10, (32,), generator=torch.Generator()))
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())
    assert torch.get_num_threads() == 2
    assert set(seconds) == {c.key() for c in fast_path.candidates(model, 2, 32, kernel=False)}
    assert all(0 < s < float("inf") for s in seconds.values()) and seconds[best.key()] == min(seconds.values())


def test_a_measured_seeded_run_repeats_exactly_and_says_which_step_it_used(measuring):
    torch.set_num_threads(2)
    cfg = TrainConfig(dataset="synthetic", hidden=16, epochs=2, batch_size=64, lr=1e-2, device="cpu", seed=4)
    runs = []
    for _ in range(2):
        started: list[FitStarted] = []
        result = Trainer(cfg, callbacks=[lambda e: started.append(e) if isinstance(e, FitStarted) else None]).fit(
            synthetic_bundle(n=400, seed=0))
        runs.append((result, started[0].step))
    (a, how_a), (b, how_b) = runs
    assert how_a.endswith(", measured") and how_b.endswith(", measured earlier on this machine")
    assert how_a.split(", ")[0] == how_b.split(", ")[0]
    assert a.history["train_loss"] == b.history["train_loss"]
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))


def test_an_unreadable_cache_is_an_empty_one(tmp_path):
    path = tmp_path / step_choice.CACHE_NAME
    path.write_text("{not json")
    cache = ChoiceCache(path)
    assert cache.get("anything") is None
    cache.put("k", Candidate("kernel", 2, 1))
    assert cache.get("k") == Candidate("kernel", 2, 1)
    path.write_text('{"k": "kernel:two:1"}')
    assert cache.get("k") is None


def test_the_candidates_take_turns_so_a_burst_of_load_slows_them_all_alike(monkeypatch):
    order: list[str] = []

    class Step:
        def __init__(self, name: str) -> None:
            self.name, self.threads_each = name, 1

        def train_batch(self, x, y) -> None:
            order.append(self.name)

        def close(self) -> None:
            order.append(f"close {self.name}")

    seconds = step_choice.time_candidates([lambda: Step("a"), lambda: Step("b")], None, None)
    block = step_choice.TIMED_BATCHES + 1  # the first batch of a block is the hand-over, not timed
    assert order == ["a", "b"] + (["a"] * block + ["b"] * block) * step_choice.ROUNDS + ["close a", "close b"]
    assert len(seconds) == 2 and all(0 <= s < 1 for s in seconds)


def test_a_candidate_that_cannot_start_is_never_chosen():
    def broken():
        raise OSError("no threads")

    class Step:
        threads_each = 1

        def train_batch(self, x, y) -> None: ...

        def close(self) -> None: ...

    assert step_choice.time_candidates([broken, Step], None, None)[0] == float("inf")
