"""The OS lock a training process holds on `runs/<id>/run.lock` for the whole life of its run.

The kernel releases it when the process dies, however it dies (kill -9 included), so "can I take
this lock?" tells the run store for certain that nobody trains the run any more: no PID guessing.
flock on POSIX, msvcrt.locking on Windows.
"""

from __future__ import annotations

import os
from pathlib import Path

LOCK_NAME = "run.lock"


def try_lock_fd(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on an open file; False when someone holds it.
    The OS module is imported here, not at the top, so every module that locks imports anywhere."""
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


class RunLock:
    """A non-blocking exclusive lock on one run folder's lock file."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False when another process (or descriptor) does."""
        if self._fd is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return False
        if not try_lock_fd(fd):
            os.close(fd)
            return False
        if hasattr(os, "set_inheritable"):
            os.set_inheritable(fd, False)  # a child process must not keep a dead run "alive"
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                _unlock(fd)
            finally:
                os.close(fd)


def lock_is_free(folder: str | os.PathLike[str]) -> bool:
    """Nobody holds the run's lock right now (probing takes and drops it)."""
    lock = RunLock(folder)
    if not lock.try_acquire():
        return False
    lock.release()
    return True
