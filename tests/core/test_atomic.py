"""atomic_write: the target is replaced in one step or not at all; no temporary file is left behind."""

from __future__ import annotations

import os

import pytest

from lstm_desktop.core.files.atomic import atomic_write


def temp_files(folder) -> list[str]:
    return [p for p in os.listdir(folder) if p.endswith(".tmp")]


def test_replaces_in_one_step(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with atomic_write(target, "w") as fh:
        fh.write("new")
        assert target.read_text() == "old"  # not visible until the block ends
        assert len(temp_files(tmp_path)) == 1  # written beside the target (same filesystem)
    assert target.read_text() == "new" and temp_files(tmp_path) == []


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_an_error_mid_write_keeps_the_old_file(tmp_path, error):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(type(error)):
        with atomic_write(target) as fh:
            fh.write(b"partial")
            raise error
    assert target.read_bytes() == b"old" and temp_files(tmp_path) == []


def test_a_failed_first_write_creates_nothing(tmp_path):
    target = tmp_path / "new.bin"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write(b"x")
            raise RuntimeError("boom")
    assert not target.exists() and os.listdir(tmp_path) == []


def test_creates_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "c.bin"
    with atomic_write(target) as fh:
        fh.write(b"ok")
    assert target.read_bytes() == b"ok"


def test_temp_files_carry_the_writer_pid(tmp_path):
    target = tmp_path / "m.bin"
    with atomic_write(target) as fh:
        (name,) = temp_files(tmp_path)
        assert name.startswith(f".m.bin.{os.getpid()}.")
        fh.write(b"x")


def test_stale_temps_of_dead_writers_are_cleaned_at_the_next_write(tmp_path):
    import subprocess
    import time

    from lstm_desktop.core.files.atomic import LEGACY_STALE_SECONDS, stale_temps

    gone = subprocess.Popen(["true"])
    gone.wait()
    target = tmp_path / "m.bin"
    dead = tmp_path / f".m.bin.{gone.pid}.abcd.tmp"
    live = tmp_path / f".m.bin.{os.getpid()}.efgh.tmp"  # a writer of this very process, still at work
    old = tmp_path / ".m.bin.legacy.tmp"
    young = tmp_path / ".m.bin.young.tmp"
    other = tmp_path / f".other.bin.{gone.pid}.ijkl.tmp"  # another target's: not ours to judge
    for p in (dead, live, old, young, other):
        p.write_bytes(b"half")
    past = time.time() - LEGACY_STALE_SECONDS - 5
    os.utime(old, (past, past))
    assert sorted(stale_temps(target)) == sorted([dead, old])
    with atomic_write(target) as fh:
        fh.write(b"new")
    assert not dead.exists() and not old.exists()
    assert live.exists() and young.exists() and other.exists() and target.read_bytes() == b"new"
