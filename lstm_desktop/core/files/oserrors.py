"""The one place where operating-system failures become messages a person can act on.

Checkpoint saving, data loading, image reading and `--out` all go through `os_error` (or the
`os_errors` context manager), so "permission denied", "disk full", "is a folder" read the same
everywhere. torch re-raises a failed write (ENOSPC, EIO) as a RuntimeError whose text carries the
errno; `as_os_error` recognises those too, so a full disk during torch.save is a message, not a
traceback.
"""

from __future__ import annotations

import errno
import os
import re
from contextlib import contextmanager
from typing import Iterator

from lstm_desktop.core.errors import LstmDesktopError

# errno -> (what is wrong, what to do); {path} is filled in
_REASONS: dict[int, tuple[str, str]] = {
    errno.EACCES: ("permission denied", "Check the permissions of {path}, or choose another location."),
    errno.EPERM: ("operation not permitted", "Check the permissions of {path}, or choose another location."),
    errno.ENOSPC: ("the disk is full", "Free some space on the disk that holds {path}, or choose another disk."),
    errno.EDQUOT: ("the disk quota is exceeded", "Free some space in your quota, or choose another disk."),
    errno.EROFS: ("the file system is read-only", "Choose a location on a writable disk."),
    errno.EISDIR: ("it is a folder", "Give a file name, not a folder."),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "Check the path {path}."),
    errno.ENOENT: ("no such file or folder", "Check the path {path}."),
    errno.ENAMETOOLONG: ("the name is too long", "Use a shorter path."),
    errno.EIO: ("an input/output error (the disk or the network share failed)",
                "Check the disk that holds {path}, then try again."),
    errno.ELOOP: ("too many symbolic links", "Check the path {path}."),
    errno.EMFILE: ("too many open files", "Close other programs, then try again."),
}
_ERRNO_IN_TEXT = re.compile(r"errno:?\s*(\d+)|error code:?\s*(\d+)", re.IGNORECASE)
_TEXT_ERRNOS = (("No space left on device", errno.ENOSPC), ("Disk quota exceeded", errno.EDQUOT),
                ("Read-only file system", errno.EROFS), ("Permission denied", errno.EACCES),
                ("Input/output error", errno.EIO))


def as_os_error(exc: BaseException) -> OSError | None:
    """exc as an OSError: itself, or torch's RuntimeError wrapping one (file write failed, errno 28)."""
    if isinstance(exc, OSError):
        return exc
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc)
    found = _ERRNO_IN_TEXT.search(text)
    if found:
        code = int(found.group(1) or found.group(2))
        if code in _REASONS:
            return OSError(code, os.strerror(code))
    for words, code in _TEXT_ERRNOS:
        if words in text:
            return OSError(code, os.strerror(code))
    if "file write failed" in text or "unexpected pos" in text:  # torch's zip writer gave up mid-file
        return OSError(errno.EIO, "the write failed")
    return None


def reason(exc: OSError) -> str:
    """The short why of an OSError ("permission denied", "the disk is full", ...)."""
    known = _REASONS.get(exc.errno or -1)
    if known:
        return known[0]
    return (exc.strerror or str(exc) or type(exc).__name__).strip().rstrip(".").lower()


def os_error(exc: OSError, doing: str, path: os.PathLike[str] | str,
             kind: type[LstmDesktopError] = LstmDesktopError, hint: str = "") -> LstmDesktopError:
    """'Cannot <doing> <path>: <reason>.' with the hint that fits the errno (or `hint`)."""
    known = _REASONS.get(exc.errno or -1)
    fix = hint or (known[1].format(path=path) if known else "Check the path and try again.")
    return kind(f"Cannot {doing} {path}: {reason(exc)}.", fix)


@contextmanager
def os_errors(doing: str, path: os.PathLike[str] | str, kind: type[LstmDesktopError] = LstmDesktopError,
              hint: str = "") -> Iterator[None]:
    """Turn any OSError (or torch's wrapped one) raised inside the block into `kind`."""
    try:
        yield
    except LstmDesktopError:
        raise
    except (OSError, RuntimeError) as exc:
        os_exc = as_os_error(exc)
        if os_exc is None or os_exc.errno is None:  # e.g. gzip.BadGzipFile: bad content, not the system
            raise
        raise os_error(os_exc, doing, path, kind, hint) from exc


def silence_stream(stream) -> None:
    """Point a dead stream's descriptor (its reader went away) at /dev/null, so later writes and the
    interpreter's final flush succeed quietly instead of printing "Exception ignored ... BrokenPipeError"."""
    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)
