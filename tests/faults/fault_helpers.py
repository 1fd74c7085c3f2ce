"""The fault battery's helpers (fixtures are re-exported by conftest.py): run the CLI in-process and check the user-facing outcome exactly.

Every case asserts: the exit code, a message of the form "lstm-desktop CMD: error: ..." (one
line, plus at most one indented hint line), no traceback, and what is (not) on disk afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lstm_desktop.cli import main
from lstm_desktop.core.models.checkpoint import Checkpoint, save_checkpoint
from lstm_desktop.core.training.metrics import Metrics
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TINY = ["--dataset", "digits", "--hidden", "8", "--val-size", "50", "--batch-size", "256", "--quiet"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Every case gets its own run store and no real data folder; torch on one thread (2 shared cores)."""
    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LSTM_DESKTOP_DATA", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out[-300:]!r}, err={self.err[-600:]!r})"


@pytest.fixture
def cli(capsys):
    """cli(*argv) -> Result; the CLI exactly as `lstm-desktop` runs it, minus the process start."""
    def run(*argv: str) -> Result:
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)
    return run


def assert_user_error(r: Result, command: str, code: int, *words: str) -> str:
    """Exit `code`, one error line (+ an optional indented hint), each of `words` in it, no traceback."""
    assert r.code == code, r
    assert "Traceback" not in r.err and "Traceback" not in r.out, r
    lines = [line for line in r.err.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith(f"lstm-desktop {command}: error:")]
    assert errors, r
    first = errors[0]
    tail = lines[first + 1:]
    assert len(tail) <= 1 and all(line.startswith("  ") for line in tail), r  # a hint, indented, at most
    text = " ".join(lines[first:])
    for w in words:
        assert w.lower() in text.lower(), (w, r)
    return text


def tiny_checkpoint(hidden: int = 8, accuracy: float | None = None, **spec) -> Checkpoint:
    torch.manual_seed(hidden)
    s = ModelSpec(hidden=hidden, **spec)
    metrics = Metrics(accuracy, accuracy, accuracy, accuracy, [], [], 100) if accuracy is not None else None
    return Checkpoint(LSTMClassifier(s), s, None, metrics)


@pytest.fixture
def good_model(tmp_path) -> Path:
    """A 28x28 model standing for "the 97.8% model": its bytes must survive every failed run."""
    return save_checkpoint(tmp_path / "good.pt", tiny_checkpoint(accuracy=0.978))


def temp_files(folder: Path) -> list[str]:
    if not folder.exists():  # a failed download removes the folders it made: nothing left behind
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".part", ".lock")))


def as_nobody(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run python code as user nobody (root ignores file permissions); skip where that is impossible."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", PYTHON, "-c", code]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd="/")
    except FileNotFoundError:
        pytest.skip("setpriv is not installed")


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
