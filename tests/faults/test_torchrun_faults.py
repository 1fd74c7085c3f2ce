"""torchrun ranks that cannot start: each says why in one line (a device its machine does not have:
named, with the GPU count and the fix), and a run refused before training is stored as failed with
the reason rank 0 printed, never as `interrupted` or left `running`.

One rank is run in-process with torchrun's environment: every case here is refused before any
process group is made, so no peer is needed."""

from __future__ import annotations

import pytest
import torch

from lstm_desktop.core.training import distributed as D
from lstm_desktop.core.runs.store import open_store

from fault_helpers import TINY, json_lines

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def torchrun_env(monkeypatch):
    def rank(r: int, world: int = 2) -> None:
        for key, value in (("RANK", r), ("WORLD_SIZE", world), ("LOCAL_RANK", r), ("LOCAL_WORLD_SIZE", world),
                           ("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", 29999)):
            monkeypatch.setenv(key, str(value))
    return rank


@pytest.fixture
def one_gpu(monkeypatch):
    """A machine with exactly one CUDA device, as far as device selection can tell."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def _one_error_line(err: str, *words: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and lines, err
    assert lines[0].startswith("lstm-desktop train: error: ") and len(lines) <= 2, err
    assert all(line.startswith("  ") for line in lines[1:]), err
    text = " ".join(lines)
    for w in words:
        assert w in text, (w, err)
    return text


@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_a_rank_whose_gpu_does_not_exist_says_why(device, torchrun_env, one_gpu, tmp_path, cli):
    torchrun_env(1)
    r = cli("train", *TINY, "--epochs", "1", "--batch-size", "64", "--device", device, "--out", tmp_path / "m.pt")
    assert r.code == 2, r
    _one_error_line(r.err, "rank 1 of 2", "cuda:1", "1 GPU", "--nproc-per-node 1", "--device cpu")


def _refused_run(cli, tmp_path, *flags: str):
    r = cli("train", *TINY, "--epochs", "1", "--device", "cpu", *flags, "--out", tmp_path / "m.pt")
    runs = json_lines(cli("runs", "list", "--json").out)
    return r, runs


def test_a_batch_that_does_not_split_is_stored_as_failed_with_the_reason(torchrun_env, tmp_path, cli):
    torchrun_env(0, 3)
    r, runs = _refused_run(cli, tmp_path, "--batch-size", "64")
    assert r.code == 2, r
    text = _one_error_line(r.err, "split evenly over 3 processes")
    [run] = runs
    assert run["status"] == "failed" and run["source"] == "torchrun", run
    assert run["message"] in text and "without reporting how" not in run["message"]
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("value", ["1e999", "inf", "nan", "-5", "0", "abc", "1e9"])
def test_a_bad_collective_timeout_is_refused_with_its_range(value, torchrun_env, tmp_path, cli, monkeypatch):
    torchrun_env(0)
    monkeypatch.setenv(D.ENV_TIMEOUT, value)
    r, runs = _refused_run(cli, tmp_path, "--batch-size", "64")
    assert r.code == 2, r
    _one_error_line(r.err, D.ENV_TIMEOUT, "604800", repr(value))
    [run] = runs
    assert run["status"] == "failed" and D.ENV_TIMEOUT in run["message"], run


def test_a_refused_non_zero_rank_records_nothing(torchrun_env, tmp_path, cli, monkeypatch):
    torchrun_env(1)
    monkeypatch.setenv(D.ENV_TIMEOUT, "1e999")
    r = cli("train", *TINY, "--epochs", "1", "--device", "cpu", "--batch-size", "64", "--out", tmp_path / "m.pt")
    assert r.code == 2 and "Traceback" not in r.err, r
    assert open_store(tmp_path / "home").list_runs() == []
