"""The `--out` policy: checked before training, locked for the run's life, written once at the end.

- `check_out_target` runs before any data is loaded: the name is not empty, not a folder, not a
  device, its folder exists (or can be made) and is writable, and no other run holds it. The
  returned `OutTarget` keeps an exclusive lock (`.<name>.lock` beside it) until `release`, so two
  runs on one `--out` can never both report success while one model is silently gone.
- `write_out` at the end: a finished run replaces the file; a stopped or failed run never
  replaces an existing file (it writes one only where none exists), and its model stays in the
  run store's folder (or, without a store, beside the target as `<stem>.unfinished.pt`).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from lstm_desktop.core.errors import CheckpointError, ConfigError, LstmDesktopError
from lstm_desktop.core.files.oserrors import os_error, reason
from lstm_desktop.core.runs.run_lock import try_lock_fd


class OutTarget:
    """A checked --out path and the lock that keeps other runs off it until `release`."""

    def __init__(self, path: Path, fd: int | None = None, lock_path: Path | None = None) -> None:
        self.path, self._fd, self._lock_path = path, fd, lock_path

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if self._lock_path is not None:
                self._lock_path.unlink(missing_ok=True)  # while still locked: the next run makes a fresh one
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "OutTarget":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def kept_path(path: Path) -> Path:
    """Where a stopped run's model goes when there is no run store and --out already holds a model."""
    return path.with_name(f"{path.stem}.unfinished{path.suffix or '.pt'}")


def check_out_target(path: str | os.PathLike[str] | None, lock: bool = True) -> OutTarget:
    """ConfigError (exit 2) for a target that cannot work; CheckpointError when another run holds it."""
    text = "" if path is None else os.fspath(path)
    if not text.strip():
        raise ConfigError("--out is empty, so the model would not be saved anywhere.",
                          "Give a file name, such as --out model.pt.")
    p = Path(text).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise _under_a_file(p) from None
        raise os_error(exc, "use --out", p, ConfigError, "Choose --out in a folder you can write to.") from exc
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"--out {p} is a folder, not a file name.", f"Give a file inside it, such as --out {p / 'model.pt'}.")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"--out {p} is not a regular file (a device, pipe or socket), so it cannot hold a model.",
                          "Give the name of a new or existing .pt file, such as --out model.pt.")
    refuse_protected(p)
    folder = _existing_ancestor(p)
    if not folder.is_dir():
        raise _under_a_file(p)
    _probe_writable(folder, p)
    if not lock:
        return OutTarget(p)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, "create the folder of --out", p.parent, ConfigError) from exc
    return _lock(p)


def refuse_protected(p: Path) -> None:
    """ConfigError when --out would replace what no run may: the model shipped with the app (the
    default of the pad and `classify`), or any file of the run store (a run's model, the database),
    however the path reaches it (a symlink, `..`, a hard link)."""
    from lstm_desktop.core.files.paths import home_dir
    from lstm_desktop.core.files.resources import shipped_model_path

    real = Path(os.path.realpath(p))
    shipped = shipped_model_path()
    if real == Path(os.path.realpath(shipped)) or _same_file(p, shipped):
        raise ConfigError(f"--out {p} is the model shipped with lstm-desktop; replacing it would change the "
                          f"app's default model.", "Give another file name, such as --out my-model.pt.")
    home = Path(os.path.realpath(home_dir()))
    if real == home or home in real.parents:
        raise ConfigError(f"--out {p} is inside the run store ({home}), whose files only lstm-desktop writes.",
                          "Give a file outside it; `lstm-desktop runs export ID --out FILE` copies a run's model out.")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_out(out: str | os.PathLike[str], ckpt, finished: bool) -> Path | None:
    """The end of a run: the path --out now holds this run's model, or None when the old file was kept."""
    from lstm_desktop.core.models.checkpoint import save_checkpoint

    target = Path(out).expanduser()
    if finished or not target.exists():
        try:
            return save_checkpoint(target, ckpt)
        except LstmDesktopError as exc:
            kept = f" This run's model is kept in {ckpt.path}." if ckpt.path else ""
            raise CheckpointError(exc.message, f"{exc.hint}{kept}") from exc
    if ckpt.path is None or not Path(ckpt.path).is_file():  # no run-store copy: never lose the model
        ckpt.path = save_checkpoint(kept_path(target), ckpt)
    return None


def kept_message(out: str | os.PathLike[str], outcome) -> str:
    """What the CLI says when a stopped or failed run left an existing --out alone."""
    what = "failed" if outcome.fit.failure is not None else "was stopped"
    where = outcome.checkpoint.path
    return (f"kept the existing {out}: this run {what} after {outcome.fit.epochs_completed} epoch(s), so it "
            f"does not replace a model; its model is in {where}")


def _under_a_file(p: Path) -> ConfigError:
    blocker = _existing_ancestor(p)
    return ConfigError(f"--out {p} is under {blocker}, which is a file, not a folder.",
                       "Choose --out in a folder.")


def _existing_ancestor(p: Path) -> Path:
    folder = p.parent if str(p.parent) else Path(".")
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


def _probe_writable(folder: Path, p: Path) -> None:
    """Create and delete a file in the folder: the only test that is right for root, ACLs and read-only mounts."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.probe.")
    except OSError as exc:
        raise ConfigError(f"Cannot write --out {p}: {reason(exc)} in {folder}.",
                          "Choose --out in a folder you can write to.") from exc
    os.close(fd)
    try:
        os.unlink(name)
    except OSError:
        pass


def _lock(p: Path) -> OutTarget:
    lock_file = lock_path_for(p)
    for _ in range(20):  # retried only when the lock file was replaced under us
        try:
            fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            raise os_error(exc, "lock --out", p, ConfigError, "Choose --out in a folder you can write to.") from exc
        if not try_lock_fd(fd):
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (process {holder})" if holder else ""
            raise CheckpointError(f"Another lstm-desktop run{who} is already writing {p}.",
                                  "Wait for it to finish, or give this run another --out.") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_file).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return OutTarget(p, fd, lock_file)
        os.close(fd)  # the holder released (and removed) it between our open and our lock
    raise CheckpointError(f"Could not lock {p}: other runs keep replacing its lock.", "Try again.")


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text.isdigit() else None
    except (OSError, ValueError, AttributeError):  # no pread on Windows: the holder goes unnamed
        return None
