"""The CLI as a newcomer meets it: the default --out never replaces an earlier run's model, and Ctrl-C
during validation says so instead of printing a loss of nan that reads as divergence."""

from __future__ import annotations

import io
import math

import pytest

from lstm_desktop.cli import main
from lstm_desktop.cli.progress import ProgressPrinter
from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.training.events import EpochEnded

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = ["--dataset", "synthetic", "--hidden", "8", "--epochs", "1", "--batch-size", "32", "--device", "cpu",
        "--quiet"]


def test_the_default_out_never_replaces_an_earlier_model(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(tmp_path / "home"))
    assert main(["train", *TINY, "--seed", "1"]) == 0
    first = (tmp_path / "lstm-model.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", *TINY, "--seed", "2"]) == 0
    err = capsys.readouterr().err
    assert (tmp_path / "lstm-model.pt").read_bytes() == first, "the earlier run's model was replaced"
    assert load_checkpoint(tmp_path / "lstm-model-2.pt").config.seed == 2
    assert "lstm-model-2.pt" in err and "--out" in err  # said where it went, and how to choose


def _epoch(val_loss: float) -> EpochEnded:
    return EpochEnded(0, 3, 0.5, 0.8, val_loss, val_loss, 1.0, 100.0, 1e-3)


def test_an_interrupted_validation_is_not_printed_as_nan():
    out = io.StringIO()
    printer = ProgressPrinter(out=out, err=io.StringIO(), bar=False)
    printer.stopping = True
    printer.on_epoch_end(_epoch(math.nan))
    assert "nan" not in out.getvalue() and "validation interrupted" in out.getvalue()
    quiet = io.StringIO()
    ProgressPrinter(out=quiet, err=io.StringIO(), bar=False).on_epoch_end(_epoch(math.nan))
    assert "nan" not in quiet.getvalue() and "no validation set" in quiet.getvalue()
    normal = io.StringIO()
    ProgressPrinter(out=normal, err=io.StringIO(), bar=False).on_epoch_end(_epoch(0.25))
    assert "val loss 0.2500 acc 25.00%" in normal.getvalue()
