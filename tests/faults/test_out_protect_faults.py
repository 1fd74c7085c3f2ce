"""Outputs that must not be overwritten: `--out` of train, adapt and `runs export` refuses the
shipped model, any file in the run store, and anything that is not a regular file or a new path,
before anything is opened; `runs export` checks the model before it says "exported"."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from lstm_desktop.core.models.checkpoint import save_checkpoint
from lstm_desktop.core.files.resources import shipped_model_path
from lstm_desktop.core.runs.store import open_store

from fault_helpers import PYTHON, ROOT, TINY, assert_user_error, tiny_checkpoint

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def stored(tmp_path) -> Path:
    """A run store with run 1 (a model in its folder): returns the model's path."""
    store = open_store(tmp_path / "home")
    run = store.create_run({"dataset": "digits"}, status="finished")
    model = save_checkpoint(store.run_dir(run.id) / "model.pt", tiny_checkpoint(accuracy=0.9))
    store.update(run.id, checkpoint_path=model, epochs_done=1)
    store.close()
    return model


def _command(which: str, out: str, tmp_path: Path) -> list[str]:
    drawings = tmp_path / "drawings"
    drawings.mkdir(exist_ok=True)
    return {"train": ["train", *TINY, "--epochs", "1", "--device", "cpu", "--out", out],
            "adapt": ["adapt", str(drawings), "--out", out],
            "export": ["runs", "export", "1", "--out", out]}[which]


COMMANDS = ["train", "adapt", "export"]


@pytest.mark.parametrize("which", COMMANDS)
def test_the_shipped_model_is_never_replaced(which, tmp_path, cli, stored):
    shipped = shipped_model_path()
    before = shipped.read_bytes()
    r = cli(*_command(which, str(shipped), tmp_path))
    assert_user_error(r, "runs" if which == "export" else which, 2, "model shipped with lstm-desktop", "--out")
    assert shipped.read_bytes() == before
    assert not list(shipped.parent.glob(f".{shipped.name}*"))


@pytest.mark.parametrize("which", COMMANDS)
def test_a_symlink_to_the_shipped_model_is_refused_too(which, tmp_path, cli, stored):
    link = tmp_path / "link.pt"
    link.symlink_to(shipped_model_path())
    r = cli(*_command(which, str(link), tmp_path))
    assert_user_error(r, "runs" if which == "export" else which, 2, "model shipped with lstm-desktop")
    assert link.is_symlink()


@pytest.mark.parametrize("target", ["runs/1/model.pt", "runs/2/new.pt", "runs.sqlite", "mine.pt"])
@pytest.mark.parametrize("which", COMMANDS)
def test_nothing_in_the_run_store_is_overwritten(which, target, tmp_path, cli, stored):
    home = tmp_path / "home"
    path = home / target
    before = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    r = cli(*_command(which, str(path), tmp_path))
    assert_user_error(r, "runs" if which == "export" else which, 2, "inside the run store", "outside")
    after = {p: p.read_bytes() for p in home.rglob("*") if p.is_file() and p in before}
    assert after == before
    assert path in before or not path.exists()
    if which == "train":
        assert sorted(os.listdir(home / "runs")) == ["1"]  # refused before a run was even recorded


@pytest.mark.parametrize("which", ["adapt", "export"])
def test_a_fifo_is_refused_before_it_is_opened(which, tmp_path, cli, stored):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it for writing would block forever: a refusal proves nothing opened it
    r = cli(*_command(which, str(fifo), tmp_path))
    assert_user_error(r, "runs" if which == "export" else which, 2, "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("which", ["adapt", "export"])
def test_a_device_is_refused_without_any_write(which, tmp_path, cli, stored, monkeypatch):
    """/dev/full, with every way of creating or replacing a file under /dev made to fail the test."""
    device = "/dev/full"
    if not os.path.exists(device) or not stat.S_ISCHR(os.stat(device).st_mode):
        pytest.skip("no /dev/full character device here")

    def guard(real):
        def call(*args, **kwargs):
            for a in (*args, *kwargs.values()):
                if isinstance(a, (str, os.PathLike)) and os.fspath(a).startswith("/dev"):
                    raise AssertionError(f"tried to write under /dev: {args}")
            return real(*args, **kwargs)
        return call

    for module, name in ((os, "replace"), (os, "rename"), (os, "open"), (tempfile, "mkstemp")):
        monkeypatch.setattr(module, name, guard(getattr(module, name)))
    monkeypatch.setattr("builtins.open", guard(open))
    r = cli(*_command(which, device, tmp_path))
    assert_user_error(r, "runs" if which == "export" else which, 2, "not a regular file")
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_export_checks_the_model_before_saying_exported(tmp_path, cli, stored):
    stored.write_bytes(stored.read_bytes()[:-200] + b"\0" * 200)  # a damaged checkpoint in the run's folder
    out = tmp_path / "copy.pt"
    r = cli("runs", "export", "1", "--out", str(out))
    assert_user_error(r, "runs", 1, "not exported")
    assert "exported" not in r.out and not out.exists()


def test_export_of_a_good_model_is_loadable(tmp_path, cli, stored):
    from lstm_desktop.core.models.checkpoint import load_checkpoint

    out = tmp_path / "copy.pt"
    r = cli("runs", "export", "1", "--out", str(out))
    assert r.code == 0 and "exported" in r.out, r
    assert out.read_bytes() == stored.read_bytes() and load_checkpoint(out).metrics.accuracy == 0.9


def test_outfile_imports_where_there_is_no_fcntl():
    """Windows has no fcntl: the --out checks must still import (the lock uses msvcrt there)."""
    code = "import sys; sys.modules['fcntl'] = None; import lstm_desktop.core.files.outfile; print('ok')"
    done = subprocess.run([PYTHON, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-500:]
