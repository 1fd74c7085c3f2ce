"""Data-parallel training: 2 CPU processes (gloo, loopback only) under torchrun, compared with one
process on the same global batch; and a failing / hung rank that must end the job, not hang it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lstm_desktop.core.training import distributed as D
from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.errors import ConfigError, DeviceError
from lstm_desktop.core.training.session import run_training

ROOT = Path(__file__).resolve().parents[2]
# global batch 40 = 2 x 20 over 500 training images: 13 steps per epoch, the last one partial (2 x 10)
SETTINGS = dict(dataset="synthetic", hidden=8, epochs=2, batch_size=40, lr=0.01, seed=3)
TRAIN_SIZE = 500


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(tmp_path: Path, env: dict[str, str] | None = None, timeout: float = 90,
              extra: list[str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    args = ["train", "--device", "cpu", "--threads", "1", "--quiet", "--out", str(tmp_path / "out" / "model.pt")]
    for key, value in SETTINGS.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(_free_port()), "--max-restarts", "0",
           *(extra or []), "-m", "lstm_desktop", *args]
    full_env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", **(env or {})}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        full_env.pop(key, None)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - start


def test_two_ranks_match_one_process_on_the_global_batch(tmp_path):
    shard_log = tmp_path / "shards"
    proc, _ = _torchrun(tmp_path, {D.ENV_SHARD_LOG: str(shard_log)},
                        extra=["--log-dir", str(tmp_path / "logs"), "--tee", "3"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    # both ranks trained, on disjoint halves of every epoch, reshuffled between epochs
    epochs = {r: [json.loads(line) for line in (shard_log / f"rank{r}.jsonl").read_text().splitlines()]
              for r in (0, 1)}
    assert [len(epochs[r]) for r in (0, 1)] == [2, 2]
    for e in range(2):
        a, b = epochs[0][e]["indices"], epochs[1][e]["indices"]
        assert len(a) == len(b) == TRAIN_SIZE // 2
        assert not set(a) & set(b)
        assert set(a) | set(b) == set(range(TRAIN_SIZE))
    assert epochs[0][0]["indices"] != epochs[0][1]["indices"]

    # only rank 0 wrote (one checkpoint, no stray temp files) and printed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.pt"]
    stdout = {r: next((tmp_path / "logs").rglob(f"attempt_0/{r}/stdout.log")).read_text() for r in (0, 1)}
    assert "saved" in stdout[0] and "data-parallel: 2 processes (gloo, cpu)" in stdout[0]
    assert stdout[1].strip() == ""

    ckpt = load_checkpoint(tmp_path / "out" / "model.pt")  # the same format the app opens
    assert ckpt.info["world_size"] == 2 and ckpt.info["batch_per_process"] == 20
    assert ckpt.config.batch_size == 40 and ckpt.info["epochs"] == 2

    # one process, batch 40, same seed: same samples in the same order -> same steps
    threads = torch.get_num_threads()
    try:
        ref = run_training(TrainConfig(**SETTINGS, device="cpu", threads=1))
    finally:
        torch.set_num_threads(threads)
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert ckpt.history[key] == pytest.approx(ref.fit.history[key], rel=1e-4, abs=1e-5), key
    assert ref.fit.history["train_loss"][1] < ref.fit.history["train_loss"][0]  # it did learn
    got, want = ckpt.model.state_dict(), ref.fit.model.state_dict()
    assert got.keys() == want.keys()
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-5, msg=name)


def test_a_failing_rank_ends_the_job_with_its_reason(tmp_path):
    proc, seconds = _torchrun(tmp_path, {D.ENV_FAULT_RANK: "1"})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rank 1 of 2 (local rank 1" in out and "failed: RuntimeError: injected fault" in out, out[-3000:]
    assert "Root Cause" in out  # torchrun's summary names rank 1 as well
    assert not (tmp_path / "out" / "model.pt").exists()  # no epoch finished
    assert seconds < 60


def test_a_hung_rank_times_out_instead_of_hanging(tmp_path):
    proc, seconds = _torchrun(tmp_path, {D.ENV_FAULT_RANK: "1", D.ENV_FAULT_KIND: "hang", D.ENV_TIMEOUT: "4"})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    # the monitored barrier names the missing rank
    assert "rank 0 of 2 (local rank 0" in out and "rank(s) 1 did not reach the start of training within 4 s" in out, \
        out[-3000:]
    assert seconds < 60


def test_settings_are_checked_before_any_process_group(monkeypatch):
    env = D.DistEnv(rank=0, world=3, local_rank=0, local_world=3)
    with pytest.raises(ConfigError, match="split evenly over 3 processes"):
        D.distributed_config(TrainConfig(dataset="synthetic", batch_size=64), env, torch.device("cpu"))
    cfg = D.distributed_config(TrainConfig(dataset="synthetic", batch_size=63), env, torch.device("cpu"))
    assert cfg.threads == max(1, D.usable_cores() // 3) and cfg.device == "cpu"
    assert D.distributed_config(TrainConfig(dataset="synthetic", batch_size=63, threads=5), env,
                                torch.device("cpu")).threads == 5
    assert D.pick_device("cpu", 1) == torch.device("cpu")
    assert D.backend_for(torch.device("cpu")) == "gloo" and D.backend_for(torch.device("cuda", 1)) == "nccl"
    with pytest.raises(DeviceError):
        D.pick_device("mps", 0)
    with pytest.raises(ConfigError, match="not a torchrun launch"):
        D.DistEnv.from_environ({"WORLD_SIZE": "2"})
    monkeypatch.setenv(D.ENV_TIMEOUT, "abc")
    with pytest.raises(ConfigError):
        D.timeout_from_env()


def test_failure_messages_name_the_rank_and_the_reason():
    env = D.DistEnv(rank=1, world=4, local_rank=1, local_world=2)
    t = D.timedelta(seconds=7)
    msg, _, secondary = D._describe_failure(ValueError("bad thing"), env, t)
    assert msg.startswith("rank 1 of 4 (local rank 1 on ") and msg.endswith("failed: ValueError: bad thing")
    assert not secondary
    peer = RuntimeError("[/x/gloo/transport/tcp/pair.cc:561] Connection closed by peer [127.0.0.1]:2240. "
                        "This is typically caused by a remote worker crashing.")
    msg, _, secondary = D._describe_failure(peer, env, t)
    assert "lost contact with another process (RuntimeError: Connection closed by peer [127.0.0.1]:2240)" in msg
    assert secondary
    msg, hint, _ = D._describe_failure(RuntimeError("[Rank 0]: Ranks 2, 3 failed to pass monitoredBarrier in "
                                                    "7000 ms"), env, t)
    assert "rank(s) 2, 3 did not reach the start of training within 7 s" in msg and D.ENV_TIMEOUT in hint
    msg, _, _ = D._describe_failure(RuntimeError("Timed out waiting 7000ms for recv operation"), env, t)
    assert "no answer from another process within 7 s" in msg
