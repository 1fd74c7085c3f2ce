"""Shared test setup: headless Qt, the real-MNIST location, small helpers.

LSTM_DESKTOP_TEST_THREADS=16 makes torch use 16 intra-op threads before any test runs: the way to
take a many-core machine's code paths (e.g. the split step instead of the C kernel's) on 2 cores.
`make test` runs tests/core and tests/cli a second time that way."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import
# The engine times its candidate CPU steps (core/steps/step_choice.py); tests take the rules' pick so what
# they check does not depend on this machine's load. tests/core/test_step_choice.py times for real.
os.environ.setdefault("LSTM_DESKTOP_STEP_CHOICE", "rules")

import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

# Every run a test trains is recorded in the run store: never in the user's own (core/files/paths.py).
os.environ["LSTM_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="lstm-desktop-test-home-")
atexit.register(shutil.rmtree, os.environ["LSTM_DESKTOP_HOME"], True)
# Tests run in a folder of their own, so a default output (`train` without --out writes lstm-model.pt
# where it runs) never lands in the checkout; the checkout stays first on the import path.
_CHECKOUT = str(Path(__file__).resolve().parents[1])
import sys  # noqa: E402

if _CHECKOUT not in sys.path:
    sys.path.insert(0, _CHECKOUT)
os.chdir(tempfile.mkdtemp(prefix="lstm-desktop-test-cwd-"))
atexit.register(shutil.rmtree, os.getcwd(), True)

import pytest

THREADS_ENV = "LSTM_DESKTOP_TEST_THREADS"


def pytest_configure(config) -> None:
    threads = os.environ.get(THREADS_ENV, "").strip()
    if not threads:
        return
    if not threads.isdigit() or int(threads) < 1:
        raise pytest.UsageError(f"{THREADS_ENV}={threads!r} is not a thread count: give a whole number such as 16.")
    import torch

    torch.set_num_threads(int(threads))


MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
HAS_MNIST = (MNIST_DIR / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()


@pytest.fixture
def mnist_dir() -> Path:
    if not HAS_MNIST:
        pytest.skip(f"real MNIST not found at {MNIST_DIR}")
    return MNIST_DIR


@pytest.fixture
def one_torch_thread():
    """Run a test's torch ops on one intra-op thread, restoring the setting afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
