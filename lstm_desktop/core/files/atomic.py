"""Atomic file writes: a crash or a full disk never leaves a half-written file behind.

The temporary file is named `.<target>.<pid>.<random>.tmp`, beside the target. A process killed
mid-write (SIGKILL, power loss) cannot remove its own; the next write of the same target does:
every temp file of that target whose process is gone is deleted first (`clean_stale_temps`), so
they never pile up, and a live writer's temp file is never touched.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

LEGACY_STALE_SECONDS = 600  # temp files without a pid (older versions): stale after this long


def temp_prefix(target: Path) -> str:
    return f".{target.name}."


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Write to a temporary file beside `path`, fsync, then rename over it in one step."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{temp_prefix(target)}{os.getpid()}.", suffix=".tmp")
    try:
        os.chmod(tmp, _default_mode(target))  # mkstemp makes 0600; keep the usual permissions
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(target.parent)


def stale_temps(target: str | os.PathLike[str]) -> list[Path]:
    """Temp files of `target` left by writers that no longer run."""
    target = Path(target)
    prefix = temp_prefix(target)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    stale = []
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        middle = name[len(prefix):-len(".tmp")]
        pid_text = middle.split(".", 1)[0]
        path = target.parent / name
        if pid_text.isdigit() and "." in middle:
            if not _alive(int(pid_text)):
                stale.append(path)
        else:  # an older version's temp file: no pid to ask, so judge by age
            try:
                if time.time() - path.stat().st_mtime > LEGACY_STALE_SECONDS:
                    stale.append(path)
            except OSError:
                pass
    return stale


def clean_stale_temps(target: str | os.PathLike[str]) -> int:
    """Delete the temp files killed writers of `target` left; returns how many went."""
    removed = 0
    for path in stale_temps(target):
        try:
            path.unlink()
            removed += 1
        except OSError:  # raced with another cleaner, or not ours to delete: leave it
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_mode(target: Path) -> int:
    """The existing file's mode, else what a plain open() would give under the current umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
