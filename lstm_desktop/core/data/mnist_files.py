"""MNIST's four IDX files: finding them, validating every header before training, downloading them.

Validation (`read_mnist`) happens before a single batch is trained: magic number, item count
against the file's size and the known MNIST size, 28x28 images, labels 0-9, as many labels as
images. A folder holding only the `.gz` files is decompressed in place (or read in memory when the
folder is read-only), never downloaded again. The download reads in a helper thread so a Ctrl-C
(`should_stop`) is noticed within a fraction of a second even while the network is stalled.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.client
import os
import queue
import shutil
import stat
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from lstm_desktop.core.files.atomic import atomic_write
from lstm_desktop.core.errors import DataError
from lstm_desktop.core.training.events import DownloadProgress
from lstm_desktop.core.files.oserrors import os_error, os_errors

Callback = Callable[[DownloadProgress], None]
ENV_MIRROR = "LSTM_DESKTOP_MNIST_MIRROR"
SIDE = 28
NUM_CLASSES = 10
POLL_SECONDS = 0.1  # how often a download checks should_stop
STALL_SECONDS = 30.0  # no byte for this long: the mirror is given up

# name, header magic, expected size in bytes
MNIST_FILES: dict[str, tuple[int, int]] = {
    "train-images-idx3-ubyte": (2051, 16 + 60000 * 28 * 28),
    "train-labels-idx1-ubyte": (2049, 8 + 60000),
    "t10k-images-idx3-ubyte": (2051, 16 + 10000 * 28 * 28),
    "t10k-labels-idx1-ubyte": (2049, 8 + 10000),
}
MNIST_MD5 = {  # of the .gz files torchvision downloads
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
REDOWNLOAD = "Delete it and download MNIST again, or choose another data folder."


class DownloadCancelled(DataError):
    """The user stopped a download (Ctrl-C, Stop): the CLI exits 130 like any interrupted command."""

    exit_code = 130


def mnist_raw_dir(root: Path) -> Path:
    """root/MNIST/raw; or, when that holds nothing, a copy nested one level off that holds all four
    files (`cp -r MNIST` into an existing MNIST/, `cp -r raw` into raw/, the raw folder itself)."""
    plain = root / "MNIST" / "raw"
    if _holds(plain, any):
        return plain
    for nested in (root / "MNIST" / "MNIST" / "raw", plain / "raw", plain / "MNIST" / "raw", root / "raw", root):
        if _holds(nested, all):
            return nested
    return plain


def _holds(raw: Path, how: Callable[[Iterable[bool]], bool]) -> bool:
    return how(_kind(raw / n, strict=False) == "file" or _kind(raw / f"{n}.gz", strict=False) == "file"
               for n in MNIST_FILES)


def _made_folders(raw: Path) -> list[Path]:
    """The folders mkdir(parents=True) is about to create for raw, deepest first."""
    made = []
    for folder in (raw, *raw.parents):
        if folder.exists():
            break
        made.append(folder)
    return made


def _remove_if_empty(folders: list[Path]) -> None:
    """Undo a failed download's empty folders, so nothing suggests the data is half there."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _kind(path: Path, strict: bool = True) -> str:
    """'file', 'missing' or 'other'. An unreadable folder is a DataError (strict) or 'unreadable',
    never 'missing': that would send the user to download MNIST again."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as exc:
        if not strict:
            return "unreadable"
        if exc.errno in (errno.EACCES, errno.EPERM):  # the folder cannot be entered: say so
            raise os_error(exc, "look into the data folder", path.parent, DataError,
                           "Check the folder's permissions, or choose another data folder (--data-dir).") from exc
        raise os_error(exc, "read", path, DataError, REDOWNLOAD) from exc
    return "file" if stat.S_ISREG(st.st_mode) else "other"


def missing_mnist_files(root: Path) -> list[str]:
    """The files present neither as such nor as their .gz (never raises: reading them says what is wrong)."""
    raw = mnist_raw_dir(root)
    return [n for n in MNIST_FILES
            if _kind(raw / n, strict=False) == "missing" and _kind(raw / f"{n}.gz", strict=False) == "missing"]


def missing_data_message(root: Path, missing: list[str] | None = None) -> DataError:
    raw = mnist_raw_dir(root)
    missing = missing_mnist_files(root) if missing is None else missing
    which = "" if not missing or len(missing) == len(MNIST_FILES) else f": missing {', '.join(missing)}"
    return DataError(
        f"MNIST was not found in {raw}{which} (expected the files {', '.join(MNIST_FILES)}, or their .gz).",
        "Download it (needs internet), point --data-dir / LSTM_DESKTOP_DATA at a folder that "
        "holds MNIST/raw/, or use the offline dataset: --dataset digits.",
    )


def _read(raw: Path, name: str) -> tuple[Path, bytes]:
    """The file's bytes: the plain file, else its .gz (decompressed in place when the folder allows)."""
    path = raw / name
    kind = _kind(path)
    if kind == "other":
        raise DataError(f"{path} is not a regular file (a folder, pipe or device).", REDOWNLOAD)
    if kind == "file":
        with os_errors("read", path, DataError):
            return path, path.read_bytes()
    gz = raw / f"{name}.gz"
    if _kind(gz) != "file":
        raise missing_data_message(raw.parent.parent)
    try:
        with os_errors("read", gz, DataError):
            with gzip.open(gz, "rb") as fh:
                blob = fh.read(MNIST_FILES[name][1] + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{gz} is not a valid .gz file ({str(exc)[:80] or type(exc).__name__}).", REDOWNLOAD) from exc
    try:  # keep the plain file for next time; a read-only folder just means reading the .gz again
        with atomic_write(path) as fh:
            fh.write(blob)
    except OSError:
        pass
    return gz, blob


def _parse(path: Path, name: str, blob: bytes) -> np.ndarray:
    magic, size = MNIST_FILES[name]
    images = magic == 2051
    head = 16 if images else 8
    if len(blob) < head or int.from_bytes(blob[:4], "big") != magic:
        raise DataError(f"{path} is not an MNIST file ({len(blob):,} bytes, expected {size:,}).", REDOWNLOAD)
    if len(blob) != size:
        what = "truncated" if len(blob) < size else "too long"
        raise DataError(f"{path} is {what} ({len(blob):,} bytes, expected {size:,}).", REDOWNLOAD)
    count = int.from_bytes(blob[4:8], "big")
    dims = (int.from_bytes(blob[8:12], "big"), int.from_bytes(blob[12:16], "big")) if images else ()
    if images and dims != (SIDE, SIDE):
        raise DataError(f"{path} could not be read: its images are {dims[0]}x{dims[1]}, MNIST's are 28x28.",
                        REDOWNLOAD)
    per_item = SIDE * SIDE if images else 1
    if head + count * per_item != len(blob):
        raise DataError(f"{path} could not be read: its header says {count:,} items but the file holds "
                        f"{(len(blob) - head) // per_item:,}.", REDOWNLOAD)
    data = np.frombuffer(blob, np.uint8, offset=head)
    if images:
        return data.reshape(count, SIDE, SIDE)
    if data.size and int(data.max()) >= NUM_CLASSES:
        bad = int(np.argmax(data >= NUM_CLASSES))
        raise DataError(f"{path} could not be read: label {int(data[bad])} at item {bad:,} is not a digit 0-9.",
                        REDOWNLOAD)
    return data


def read_mnist(root: Path) -> dict[str, np.ndarray]:
    """All four files, validated (and the counts of images and labels agree): name -> array."""
    missing = missing_mnist_files(root)
    if missing:
        raise missing_data_message(root, missing)
    raw = mnist_raw_dir(root)
    arrays = {}
    for name in MNIST_FILES:
        path, blob = _read(raw, name)
        arrays[name] = _parse(path, name, blob)
    for split in ("train", "t10k"):
        n_img, n_lab = len(arrays[f"{split}-images-idx3-ubyte"]), len(arrays[f"{split}-labels-idx1-ubyte"])
        if n_img != n_lab:
            raise DataError(f"MNIST files in {raw} could not be read: {n_img:,} {split} images but {n_lab:,} "
                            f"labels.", "Delete them and download again, or choose another data folder.")
    return arrays


def check_mnist_files(root: Path) -> None:
    """Fail with a clear message for missing, truncated or foreign files, before numpy or torch see them."""
    read_mnist(root)


def _mirrors() -> list[str]:
    env = os.environ.get(ENV_MIRROR)
    if env:
        return [m if m.endswith("/") else m + "/" for m in env.split(",")]
    try:
        from torchvision.datasets import MNIST

        return list(MNIST.mirrors)
    except Exception:  # pragma: no cover - torchvision always has mirrors
        return ["https://ossci-datasets.s3.amazonaws.com/mnist/"]


def download_mnist(root: Path, callback: Callback | None = None, timeout: float = STALL_SECONDS,
                   should_stop: Callable[[], bool] | None = None) -> None:
    """Fetch the missing MNIST files with progress events; verify MD5; write atomically."""
    raw = mnist_raw_dir(root)
    made = _made_folders(raw)
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the data folder {raw}: {exc.strerror}.",
                        "Choose a folder you can write to.") from exc
    try:
        _download_missing(root, raw, callback, timeout, should_stop)
    except BaseException:
        _remove_if_empty(made)
        raise
    check_mnist_files(root)


def _download_missing(root: Path, raw: Path, callback: Callback | None, timeout: float,
                      should_stop: Callable[[], bool] | None) -> None:
    errors: list[str] = []
    for name in missing_mnist_files(root):
        gz_name = name + ".gz"
        for mirror in _mirrors():
            url = mirror + gz_name
            try:
                _fetch_one(url, raw / name, MNIST_MD5[gz_name], callback, timeout, should_stop)
                break
            except DataError:
                raise
            except (urllib.error.URLError, OSError, ValueError, EOFError, zlib.error,
                    http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", None) or exc
                errors.append(f"{url}: {reason}")
        else:
            raise DataError(
                f"Could not download {gz_name} (tried {len(_mirrors())} mirrors; last error: {errors[-1]}).",
                f"Check the internet connection, or copy the four MNIST files "
                f"({', '.join(MNIST_FILES)}) into {raw}, or use the offline dataset (--dataset digits).",
            )


def _cancelled() -> DownloadCancelled:
    return DownloadCancelled("Download cancelled.", "Start it again when you are ready.")


def _chunks(url: str, timeout: float, should_stop: Callable[[], bool] | None):
    """(total, iterator of chunks) read by a helper thread, so should_stop is polled while the network stalls."""
    q: queue.Queue = queue.Queue(maxsize=8)
    box: dict = {}
    opened = threading.Event()

    def reader() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed mirrors
                box["response"] = response
                box["total"] = int(response.headers.get("Content-Length") or 0)
                opened.set()
                while chunk := response.read(1 << 16):
                    if box.get("abandoned"):
                        return
                    q.put(chunk)
            q.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            q.put(exc)
        finally:
            opened.set()

    threading.Thread(target=reader, daemon=True, name="mnist-download").start()

    def wait() -> None:
        while not opened.wait(POLL_SECONDS):
            if should_stop is not None and should_stop():
                box["abandoned"] = True
                raise _cancelled()

    def items():
        last = time.monotonic()
        try:
            while True:
                if should_stop is not None and should_stop():
                    raise _cancelled()
                try:
                    item = q.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    if time.monotonic() - last > timeout:
                        raise TimeoutError(f"no data for {timeout:.0f} s") from None
                    continue
                last = time.monotonic()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            box["abandoned"] = True
            while not q.empty():  # unblock the reader so it sees "abandoned" and ends
                q.get_nowait()

    wait()
    if not q.empty() and isinstance(q.queue[0], BaseException) and "total" not in box:
        raise q.get()
    return box.get("total", 0), items()


def _fetch_one(url: str, target: Path, md5: str, callback: Callback | None, timeout: float,
               should_stop: Callable[[], bool] | None) -> None:
    total, chunks = _chunks(url, timeout, should_stop)
    digest = hashlib.md5()
    with os_errors("write into", target.parent, DataError):  # disk trouble is not a network error
        tmp = tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".gz.part")
    with tmp:
        done = 0
        try:
            for chunk in chunks:
                with os_errors("write", target, DataError):
                    tmp.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if callback is not None:
                    callback(DownloadProgress(target.name, done, total))
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    gz_path = Path(tmp.name)
    part = target.with_suffix(".part")
    try:
        if digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch (got {digest.hexdigest()})")
        with gzip.open(gz_path, "rb") as src, open(part, "wb") as dst:
            with os_errors("write", target, DataError):
                shutil.copyfileobj(src, dst)
        os.replace(part, target)
    finally:
        gz_path.unlink(missing_ok=True)
        part.unlink(missing_ok=True)  # a failed decompression (bad gzip, full disk) leaves nothing
