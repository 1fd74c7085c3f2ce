"""`--out`: checked before training, never replaced by a failed or partial run, one run per file.

A good model (the "97.8% model") sits at --out; every failing variant must leave its bytes
exactly as they were, say where the new run's model is, and write nothing that should not be.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.files.outfile import check_out_target

from fault_helpers import PYTHON, ROOT, TINY, as_nobody, assert_user_error, temp_files

pytestmark = pytest.mark.timeout(120)


def runs_made(tmp_path: Path) -> list[str]:
    runs = tmp_path / "home" / "runs"
    return sorted(os.listdir(runs)) if runs.is_dir() else []


# ----------------------------------------------------------------------------- bad targets, refused before training

@pytest.mark.parametrize("kind, words", [
    ("empty", "--out is empty"), ("blank", "--out is empty"), ("folder", "is a folder"),
    ("under-a-file", "which is a file"), ("deep-under-a-file", "which is a file"),
    ("devnull", "not a regular file"), ("fifo", "not a regular file"),
])
def test_bad_target_is_refused_before_any_training(kind, words, tmp_path, cli):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    target = {"empty": "", "blank": "  ", "folder": str(tmp_path), "under-a-file": str(blocker / "m.pt"),
              "deep-under-a-file": str(blocker / "a" / "b" / "m.pt"), "devnull": "/dev/null",
              "fifo": str(tmp_path / "pipe")}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    before = sorted(os.listdir(tmp_path))
    start = time.perf_counter()
    r = cli("train", *TINY, "--epochs", "1", "--out", target)
    assert_user_error(r, "train", 2, words)
    assert "epoch 1" not in r.out and "training" not in r.out  # refused before the data was even loaded
    assert time.perf_counter() - start < 5
    assert sorted(os.listdir(tmp_path)) == before and blocker.read_text() == "x"
    assert runs_made(tmp_path) == []


def _mount_tmpfs(folder: Path, options: str) -> None:
    folder.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:80]})")


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_read_only_file_system_is_refused_before_training(tmp_path, cli):
    ro = tmp_path / "ro"
    _mount_tmpfs(ro, "ro,size=1m")
    try:
        r = cli("train", *TINY, "--epochs", "1", "--out", ro / "m.pt")
        assert_user_error(r, "train", 2, "read-only", "Choose --out in a folder you can write to")
        assert "epoch 1" not in r.out and runs_made(tmp_path) == []
    finally:
        _umount(ro)


def test_folder_without_write_permission_is_refused_for_a_normal_user(tmp_path):
    locked = Path("/tmp") / f"lstm-faults-ro-{os.getpid()}"
    locked.mkdir(mode=0o755, exist_ok=True)  # root's folder: nobody may not write in it
    try:
        done = as_nobody("from lstm_desktop.core.files.outfile import check_out_target\n"
                         "from lstm_desktop.core.errors import ConfigError\n"
                         f"try:\n    check_out_target({str(locked / 'm.pt')!r})\n"
                         "except ConfigError as e:\n    print(e.message)\n")
        assert done.returncode == 0 and "Traceback" not in done.stderr, done
        assert "permission denied" in done.stdout and str(locked) in done.stdout, done
        assert os.listdir(locked) == []
    finally:
        os.rmdir(locked)


def test_missing_folders_of_the_target_are_made(tmp_path, cli):
    target = tmp_path / "new" / "deeper" / "m.pt"
    r = cli("train", *TINY, "--epochs", "1", "--out", target)
    assert r.code == 0, r
    assert load_checkpoint(target).spec.hidden == 8 and temp_files(target.parent) == []


# ----------------------------------------------------------------------------- a good model is never replaced

def _stop_after_first_epoch(monkeypatch):
    """Ctrl-C right after epoch 1, as a person would press it (the CLI's own SIGINT handler runs)."""
    from lstm_desktop.cli.progress import ProgressPrinter

    real = ProgressPrinter.on_epoch_end

    def and_stop(self, event):
        real(self, event)
        if event.epoch == 0:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ProgressPrinter, "on_epoch_end", and_stop)


def _nan_after_first_epoch(monkeypatch):
    """The loss turns NaN in epoch 2: the run fails after one finished epoch."""
    import torch

    from lstm_desktop.core.training import engine

    real = engine.make_step

    class Flaky:
        def __init__(self, step, batches):
            self._step, self._calls, self._batches = step, 0, batches

        def train_batch(self, xb, yb):
            loss, correct = self._step.train_batch(xb, yb)
            self._calls += 1
            return (torch.tensor(float("nan")) if self._calls > self._batches else loss), correct

        def __getattr__(self, name):
            return getattr(self._step, name)

    def make(model, net, opt, cfg, device, batch_size, **kw):
        return Flaky(real(model, net, opt, cfg, device, batch_size, **kw), 6)  # digits: 6 batches of 256

    monkeypatch.setattr(engine, "make_step", make)


def test_stopped_run_keeps_the_good_model(tmp_path, cli, good_model, monkeypatch):
    blob = good_model.read_bytes()
    _stop_after_first_epoch(monkeypatch)
    r = cli("train", *TINY, "--epochs", "5", "--out", good_model)
    assert r.code == 130, r
    assert good_model.read_bytes() == blob  # the good model, byte for byte
    assert "kept the existing" in r.err and "was stopped after 1 epoch" in r.err and "Traceback" not in r.err
    kept = Path(r.err.rsplit("its model is in ", 1)[1].split()[0])
    assert load_checkpoint(kept).info["epochs"] == 1  # and this run's model is where the message says
    assert temp_files(tmp_path) == []


def test_failed_run_keeps_the_good_model(tmp_path, cli, good_model, monkeypatch):
    blob = good_model.read_bytes()
    _nan_after_first_epoch(monkeypatch)
    r = cli("train", *TINY, "--epochs", "3", "--out", good_model)
    assert r.code == 1, r
    assert good_model.read_bytes() == blob
    assert "loss became nan" in r.err and "kept the existing" in r.err and "failed after 1 epoch" in r.err
    assert "saved" not in r.out and "Traceback" not in r.err
    kept = Path(r.err.rsplit("its model is in ", 1)[1].split()[0])
    assert load_checkpoint(kept).spec.hidden == 8


def test_stopped_run_without_store_keeps_its_model_beside(tmp_path, cli, good_model, monkeypatch):
    import lstm_desktop.cli.train as T

    monkeypatch.setattr(T, "_recording", lambda config, source: None)  # no run store
    blob = good_model.read_bytes()
    _stop_after_first_epoch(monkeypatch)
    r = cli("train", *TINY, "--epochs", "5", "--out", good_model)
    assert r.code == 130 and good_model.read_bytes() == blob, r
    beside = good_model.with_name("good.unfinished.pt")
    assert f"its model is in {beside}" in r.err and load_checkpoint(beside).info["epochs"] == 1


def test_stopped_run_with_no_existing_file_writes_it(tmp_path, cli, monkeypatch):
    target = tmp_path / "first.pt"
    _stop_after_first_epoch(monkeypatch)
    r = cli("train", *TINY, "--epochs", "5", "--out", target)
    assert r.code == 130 and f"saved {target}" in r.out, r
    assert load_checkpoint(target).info["epochs"] == 1


def test_finished_run_replaces_the_file(tmp_path, cli, good_model):
    r = cli("train", *TINY, "--epochs", "1", "--out", good_model)
    assert r.code == 0 and f"saved {good_model}" in r.out, r
    assert load_checkpoint(good_model).spec.input_size == 8  # now the digits model
    assert temp_files(tmp_path) == []


# ----------------------------------------------------------------------------- two runs, one --out

def test_second_run_on_a_held_out_fails_at_start(tmp_path, cli, good_model):
    blob = good_model.read_bytes()
    with check_out_target(good_model):  # another run holds it (flock: per open file, so in-process works)
        start = time.perf_counter()
        r = cli("train", *TINY, "--epochs", "1", "--out", good_model)
        assert time.perf_counter() - start < 5
    assert_user_error(r, "train", 1, "Another lstm-desktop run", f"process {os.getpid()}", "another --out")
    assert "epoch 1" not in r.out and good_model.read_bytes() == blob and runs_made(tmp_path) == []
    r = cli("train", *TINY, "--epochs", "1", "--out", good_model)  # released: the next run may write it
    assert r.code == 0 and temp_files(tmp_path) == [], r


def test_two_processes_on_one_out_never_both_report_success(tmp_path):
    target = tmp_path / "shared.pt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([PYTHON, "-c", "import sys, time\nfrom lstm_desktop.core.files.outfile import "
                               f"check_out_target\nt = check_out_target({str(target)!r})\nprint('held', "
                               "flush=True)\nsys.stdin.read()\n"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "held"
        other = subprocess.run([PYTHON, "-c", "from lstm_desktop.core.files.outfile import check_out_target\n"
                                "from lstm_desktop.core.errors import LstmDesktopError\ntry:\n"
                                f"    check_out_target({str(target)!r})\n    print('got it')\n"
                                "except LstmDesktopError as e:\n    print(e.message)\n"],
                               capture_output=True, text=True, env=env, timeout=60)
        assert f"Another lstm-desktop run (process {holder.pid}) is already writing" in other.stdout, other
    finally:
        holder.stdin.close()
        holder.wait(30)
    with check_out_target(target):  # its exit released it
        pass
    assert temp_files(tmp_path) == []


def test_a_killed_holder_releases_the_out(tmp_path):
    target = tmp_path / "k.pt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([PYTHON, "-c", "import time\nfrom lstm_desktop.core.files.outfile import check_out_target"
                               f"\nt = check_out_target({str(target)!r})\nprint('held', flush=True)\n"
                               "time.sleep(60)\n"], stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(30)
    with check_out_target(target):  # the kernel dropped the dead process's lock
        pass
    assert temp_files(tmp_path) == []  # and the stale lock file went with the release


# ----------------------------------------------------------------------------- temp files, full disk, closed stdout

def test_temp_files_of_a_killed_save_are_cleaned_at_the_next_save(tmp_path, cli, good_model):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".good.pt.{dead.pid}.abc123.tmp"
    stale.write_bytes(b"half a model")
    legacy = tmp_path / ".good.pt.oldstyle.tmp"
    legacy.write_bytes(b"older version's leftovers")
    os.utime(legacy, (time.time() - 3600, time.time() - 3600))
    live = tmp_path / ".good.pt.1.zzz.tmp"  # pid 1 is alive: a writer still at work is left alone
    live.write_bytes(b"in progress")
    r = cli("train", *TINY, "--epochs", "1", "--out", good_model)
    assert r.code == 0, r
    assert not stale.exists() and not legacy.exists() and live.exists()


def test_full_disk_at_the_end_keeps_the_good_model_and_says_where_the_run_is(tmp_path, cli, good_model):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "size=256k")
    try:
        target = disk / "m.pt"
        target.write_bytes(good_model.read_bytes())
        blob = target.read_bytes()
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:  # fill the disk, then free two pages: room for the lock file, never for a model
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        os.ftruncate(fd, max(os.fstat(fd).st_size - 8192, 0))
        os.close(fd)
        r = cli("train", *TINY, "--epochs", "1", "--out", target)
        text = assert_user_error(r, "train", 1, "Cannot save the model to", "the disk is full",
                                 "This run's model is kept in")
        kept = Path(text.rsplit("This run's model is kept in ", 1)[1].split()[0].rstrip("."))
        assert load_checkpoint(kept).spec.input_size == 8
        assert target.read_bytes() == blob and temp_files(disk) == []
    finally:
        _umount(disk)


def test_closed_stdout_does_not_lose_the_checkpoint(tmp_path):
    """`train ... | head -1`: the reader leaves after the first line; the run still saves, no traceback."""
    target = tmp_path / "piped.pt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LSTM_DESKTOP_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([PYTHON, "-m", "lstm_desktop", "train", *TINY, "--epochs", "3", "--out", str(target)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()  # what head -1 does
    err = proc.stderr.read().decode()
    code = proc.wait(180)
    assert first.startswith(b"training"), first
    assert code == 0 and "Traceback" not in err and "Exception ignored" not in err, err
    assert load_checkpoint(target).info["epochs"] == 3


def test_broken_streams_do_not_stop_training(tmp_path):
    from lstm_desktop.cli.progress import ProgressPrinter
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.training.session import run_training

    class Broken:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def isatty(self):
            return False

    printer = ProgressPrinter(out=Broken(), err=Broken(), bar=True)
    config = TrainConfig.for_dataset("digits", hidden=8, epochs=2, val_size=50, batch_size=256)
    outcome = run_training(config, [printer], out=tmp_path / "m.pt", run_dir=tmp_path / "run")
    assert outcome.fit.epochs_completed == 2 and printer.out.broken and printer.err.broken
    assert load_checkpoint(tmp_path / "m.pt").info["epochs"] == 2
