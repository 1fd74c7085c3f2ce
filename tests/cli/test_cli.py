"""The command line: train / evaluate / devices, argument errors, data and checkpoint errors, Ctrl-C.

Most tests call lstm_desktop.cli.main in-process (capsys); a few run `python -m lstm_desktop` to see the
real exit code and stderr of a fresh process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from cli_helpers import run_cli
from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.training.session import run_training

ROOT = Path(__file__).resolve().parents[2]
SUMMARY_KEYS = ("accuracy", "precision", "recall", "f1", "epochs", "seconds", "train_samples_per_second")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models: 1 thread is fastest on 2 shared cores


@pytest.fixture(scope="module")
def synthetic_ckpt(tmp_path_factory) -> Path:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ckpt") / "synthetic.pt"
    try:
        run_training(TrainConfig(dataset="synthetic", hidden=8, epochs=1, batch_size=32, device="cpu"), out=out)
    finally:
        torch.set_num_threads(before)
    return out



def python_m(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstm_desktop", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


# ----------------------------------------------------------------------------- train / evaluate / devices

def test_train_json_prints_summary_and_writes_checkpoint(capsys, tmp_path):
    out = tmp_path / "m.pt"
    code, stdout, err = run_cli(capsys, "train", "--dataset", "synthetic", "--epochs", "1", "--hidden", "16",
                                "--out", str(out), "--json", "--seed", "3", "--device", "cpu")
    assert code == 0, err
    last = json.loads(stdout.strip().splitlines()[-1])
    for key in SUMMARY_KEYS:
        assert key in last and last[key] is not None
    assert last["epochs"] == 1 and 0.0 <= last["accuracy"] <= 1.0 and last["train_samples_per_second"] > 0
    assert last["checkpoint"] == str(out) and last["dataset"] == "synthetic"
    assert "epoch 1/1" in stdout and f"saved {out}" in stdout and "macro" in stdout
    assert "Traceback" not in err
    ck = load_checkpoint(out)
    assert ck.spec.hidden == 16 and ck.config.seed == 3 and ck.info["epochs"] == 1

    # evaluate scores the same test set (the synthetic one depends on the seed) and agrees
    code, stdout, err = run_cli(capsys, "evaluate", str(out), "--json")
    assert code == 0, err
    ev = json.loads(stdout.strip().splitlines()[-1])
    for key in SUMMARY_KEYS:
        assert key in ev
    assert ev["accuracy"] == pytest.approx(last["accuracy"])
    assert ev["f1"] == pytest.approx(last["f1"]) and ev["epochs"] == 1 and ev["dataset"] == "synthetic"


def test_evaluate_without_json_prints_the_report(capsys, synthetic_ckpt):
    code, stdout, err = run_cli(capsys, "evaluate", str(synthetic_ckpt))
    assert code == 0, err
    assert "accuracy" in stdout and "macro" in stdout and "{" not in stdout


def test_devices_lists_cpu(capsys):
    code, stdout, _ = run_cli(capsys, "devices")
    assert code == 0
    assert stdout.splitlines()[0].split()[0] == "cpu"


def test_version(capsys):
    code, stdout, _ = run_cli(capsys, "--version")
    assert code == 0 and stdout.startswith("lstm-desktop ")


# ----------------------------------------------------------------------------- argument errors

@pytest.mark.parametrize("argv, words", [
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--epochs", "two"], "--epochs"),
    (["train", "--lr", "abc"], "--lr"),
    (["train", "--lr", "0"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--dropout", "1.5"], "--dropout"),
    (["train", "--dataset", "foo"], "--dataset"),
    (["train", "--hidden", "-4"], "--hidden"),
    (["train", "--lr-schedule", "steps"], "--lr-schedule"),
    (["train", "--frobnicate"], "--frobnicate"),
    (["evaluate"], "checkpoint"),
    (["teleport"], "teleport"),
])
def test_bad_arguments_exit_2_with_one_clear_line(capsys, argv, words):
    code, stdout, err = run_cli(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error" in lines[0] and words in lines[0] and "--help" in lines[0]
    assert "Traceback" not in err and "usage:" not in err


@pytest.mark.parametrize("argv, words", [
    (["--val-size", "-5"], "validation size"),
    (["--seed", "-1"], "seed"),
    (["--layers", "9"], "layers"),
])
def test_settings_rejected_by_the_config_exit_2(capsys, tmp_path, argv, words):
    code, _, err = run_cli(capsys, "train", "--dataset", "synthetic", "--out", str(tmp_path / "x.pt"), *argv)
    assert code == 2 and words in err and "Traceback" not in err
    assert not (tmp_path / "x.pt").exists()


def test_unknown_device_exits_2_with_the_device_message(capsys, tmp_path):
    missing = f"cuda:{torch.cuda.device_count()}"  # one past the last GPU here: none on a CPU machine
    code, _, err = run_cli(capsys, "train", "--dataset", "synthetic", "--device", missing,
                           "--out", str(tmp_path / "x.pt"))
    assert code == 2
    assert f"Device '{missing}' is not available" in err and "Available: auto, cpu" in err
    assert "Traceback" not in err and not (tmp_path / "x.pt").exists()


# ----------------------------------------------------------------------------- data and checkpoint errors

def test_missing_mnist_without_download(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "train", "--data-dir", str(empty), "--no-download", "--epochs", "1",
                           "--out", str(tmp_path / "x.pt"))
    assert code not in (0, None)
    assert f"MNIST was not found in {empty / 'MNIST' / 'raw'}" in err
    assert "train-images-idx3-ubyte" in err and "--dataset digits" in err
    assert err.startswith("lstm-desktop train: error:") and "Traceback" not in err


@pytest.mark.parametrize("kind", ["missing", "random", "truncated", "foreign"])
def test_evaluate_bad_checkpoint(capsys, tmp_path, synthetic_ckpt, kind):
    path = tmp_path / f"{kind}.pt"
    if kind == "random":
        path.write_bytes(os.urandom(2000))
    elif kind == "truncated":
        path.write_bytes(synthetic_ckpt.read_bytes()[:500])
    elif kind == "foreign":
        torch.save({"weights": torch.zeros(2)}, path)
    code, stdout, err = run_cli(capsys, "evaluate", str(path), "--json")
    assert code not in (0, None)
    assert err.startswith("lstm-desktop evaluate: error:") and path.name in err
    assert "Traceback" not in err and stdout == ""


def test_evaluate_on_a_dataset_of_another_shape(capsys, synthetic_ckpt):
    code, _, err = run_cli(capsys, "evaluate", str(synthetic_ckpt), "--dataset", "digits")
    assert code == 1 and "28x28" in err and "8x8" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- real processes

def test_python_m_devices_and_bad_argument_in_a_fresh_process():
    ok = python_m("devices")
    assert ok.returncode == 0 and ok.stdout.split()[0] == "cpu", ok.stderr
    bad = python_m("train", "--epochs", "0")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "--epochs" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_ctrl_c_stops_cleanly_and_keeps_the_last_finished_epoch(tmp_path):
    out = tmp_path / "interrupted.pt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lstm_desktop", "train", "--dataset", "digits", "--epochs", "300", "--hidden", "32",
         "--threads", "1", "--device", "cpu", "--out", str(out), "--quiet", "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("epoch 1/300"):
                proc.send_signal(signal.SIGINT)
                break
        assert any(l.startswith("epoch 1/300") for l in lines), "".join(lines) + proc.stderr.read()
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stdout = "".join(lines) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "stopping" in err
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["stopped"] is True and 1 <= summary["epochs"] < 300
    ck = load_checkpoint(out)
    assert ck.info["epochs"] >= 1 and ck.info["epochs"] == summary["epochs"]
    assert ck.metrics is not None and ck.spec.seq_len == 8
