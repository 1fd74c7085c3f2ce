"""Ids, seeds and datasets are checked where they are read, with the valid range in the message;
filters that match nothing say so; LIKE wildcards in --search match themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_desktop.core.models.checkpoint import Checkpoint, save_checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
from lstm_desktop.core.runs.store import open_store

from fault_helpers import assert_user_error, json_lines

pytestmark = pytest.mark.timeout(120)

HUGE = "1" * 23
TOP = str(2**63 - 1)


@pytest.fixture
def store_home(tmp_path) -> Path:
    store = open_store(tmp_path / "home")
    for name in ("alpha", "a_b", "100% sure"):
        store.create_run({"dataset": "digits", "epochs": 1}, status="finished", name=name)
    store.close()
    return tmp_path / "home"


@pytest.mark.parametrize("action", ["show", "rm", "restore", "export"])
def test_a_run_id_too_large_for_the_store_is_a_message(action, store_home, cli, tmp_path):
    extra = ["--out", str(tmp_path / "x.pt")] if action == "export" else []
    r = cli("runs", action, HUGE, *extra)
    assert_user_error(r, "runs", 1, f"no run {HUGE}", f"from 1 to {TOP}")


@pytest.mark.parametrize("ref", ["²", "٣", "0", "-1"])
def test_odd_digits_and_non_ids_are_looked_up_as_names(ref, store_home, cli):
    r = cli("runs", "show", ref)
    assert_user_error(r, "runs", 1, "no run")


def test_evaluate_of_a_huge_run_id_is_a_message(store_home, cli):
    r = cli("evaluate", HUGE)
    assert_user_error(r, "evaluate", 1, HUGE)


@pytest.mark.parametrize("seed", ["-1", str(2**70), "1.5", "x"])
def test_adapt_seed_out_of_range(seed, tmp_path, cli):
    r = cli("adapt", str(tmp_path), "--out", str(tmp_path / "a.pt"), "--seed", seed)
    assert_user_error(r, "adapt", 2, "--seed", "from 0 to 2147483647", repr(seed))
    assert not (tmp_path / "a.pt").exists()


@pytest.mark.parametrize("flags, words", [
    (["--dataset", "nosuch"], "--dataset nosuch"), (["--search", "zzz"], "--search zzz"),
    (["--status", "failed"], "--status failed"), (["--dataset", "digits", "--status", "running"], "--status running"),
])
def test_a_filter_that_matches_nothing_says_so(flags, words, store_home, cli):
    r = cli("runs", "list", *flags)
    assert r.code == 0, r
    assert "no runs stored yet" not in r.out and "no runs match" in r.out and words in r.out and "3 runs" in r.out, r


def test_an_empty_store_still_says_no_runs_yet(tmp_path, cli):
    r = cli("runs", "list")
    assert r.code == 0 and "no runs stored yet" in r.out, r


@pytest.mark.parametrize("text, names", [("%", ["100% sure"]), ("_", ["a_b"]), ("a_", ["a_b"]),
                                         ("\\", []), ("ALPHA", ["alpha"]), ("a%b", [])])
def test_search_wildcards_match_themselves(text, names, store_home, cli):
    r = cli("runs", "list", "--search", text, "--json")
    assert r.code == 0, r
    assert [d["name"] for d in json_lines(r.out)] == names


def _temporal_order_model(path: Path) -> Path:
    config = TrainConfig.for_dataset("temporal-order", hidden=4)
    spec = ModelSpec(input_size=8, seq_len=config.seq_len, hidden=4, num_classes=4)
    return save_checkpoint(path, Checkpoint(LSTMClassifier(spec), spec, config, info={"dataset": "temporal-order"}))


@pytest.mark.parametrize("dataset", ["pixel-mnist", "mnist", "digits"])
def test_evaluate_on_a_dataset_of_another_shape_is_refused_before_loading(dataset, tmp_path, cli):
    model = _temporal_order_model(tmp_path / "to.pt")
    r = cli("evaluate", str(model), "--dataset", dataset, "--data-dir", str(tmp_path / "no-data-here"))
    assert_user_error(r, "evaluate", 1, "temporal-order", dataset, "--dataset temporal-order")
