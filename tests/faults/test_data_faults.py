"""MNIST files that are wrong in every way a header can be, odd files in their place, unreadable
folders, .gz-only folders, and downloads that stall or get cancelled.

Each bad file is refused before a single batch trains: exit 1, one line naming the file and what
is wrong with it, nothing saved, no run model written.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lstm_desktop.core.data import image_sets as D
from lstm_desktop.core.data import mnist_files as M
from lstm_desktop.core.errors import DataError

from fault_helpers import as_nobody, assert_user_error, temp_files

pytestmark = pytest.mark.timeout(60)
N_TRAIN, N_TEST = 120, 30
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def images(n: int, seed: int, rows: int = 28, cols: int = 28, magic: int = 2051, count: int | None = None) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, n * 784, dtype=np.uint8).tobytes()
    return struct.pack(">iiii", magic, n if count is None else count, rows, cols) + pixels


def labels(n: int, seed: int, magic: int = 2049, high: int = 10) -> bytes:
    values = np.random.default_rng(seed).integers(0, high, n, dtype=np.uint8)
    return struct.pack(">ii", magic, n) + values.tobytes()


def good_files() -> dict[str, bytes]:
    return dict(zip(NAMES, (images(N_TRAIN, 0), labels(N_TRAIN, 1), images(N_TEST, 2), labels(N_TEST, 3))))


@pytest.fixture(autouse=True)
def small_mnist(monkeypatch):
    raw = good_files()
    sizes = {n: (2051 if "images" in n else 2049, len(b)) for n, b in raw.items()}
    md5 = {n + ".gz": hashlib.md5(gzip.compress(b, mtime=0)).hexdigest() for n, b in raw.items()}
    monkeypatch.setattr(M, "MNIST_FILES", sizes)
    monkeypatch.setattr(M, "MNIST_MD5", md5)
    monkeypatch.setenv(M.ENV_MIRROR, "http://127.0.0.1:9/")  # nothing is ever downloaded from the internet
    return raw


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, blob in files.items():
        (raw / name).write_bytes(blob)
    return raw


def train(cli, root: Path, tmp_path: Path):
    return cli("train", "--dataset", "mnist", "--data-dir", root, "--no-download", "--epochs", "1", "--hidden", "8",
               "--val-size", "20", "--batch-size", "64", "--quiet", "--out", tmp_path / "out.pt")


def assert_refused(r, tmp_path: Path, *words: str) -> None:
    assert_user_error(r, "train", 1, *words)
    assert "epoch 1" not in r.out  # refused before training
    assert not (tmp_path / "out.pt").exists()
    assert not list((tmp_path / "home").rglob("*.pt"))  # no run model either


BAD_HEADERS = {
    "images-magic": ("train-images-idx3-ubyte", lambda: images(N_TRAIN, 0, magic=2049), "not an MNIST file"),
    "labels-magic": ("t10k-labels-idx1-ubyte", lambda: labels(N_TEST, 3, magic=2051), "not an MNIST file"),
    "html-page": ("train-labels-idx1-ubyte", lambda: b"<html>" + b" " * (N_TRAIN + 2), "not an MNIST file"),
    "empty": ("t10k-images-idx3-ubyte", lambda: b"", "not an MNIST file"),
    "truncated": ("train-images-idx3-ubyte", lambda: images(N_TRAIN, 0)[:5000], "is truncated"),
    "too-long": ("t10k-images-idx3-ubyte", lambda: images(N_TEST, 2) + b"\0" * 784, "is too long"),
    "14x56": ("train-images-idx3-ubyte", lambda: images(N_TRAIN, 0, rows=14, cols=56), "images are 14x56"),
    "0x0": ("t10k-images-idx3-ubyte", lambda: images(N_TEST, 2, rows=0, cols=0), "images are 0x0"),
    "count-too-high": ("train-images-idx3-ubyte", lambda: images(N_TRAIN, 0, count=N_TRAIN + 1),
                       f"header says {N_TRAIN + 1} items"),
    "count-negative": ("t10k-images-idx3-ubyte", lambda: images(N_TEST, 2, count=-1), "header says"),
    "label-200": ("train-labels-idx1-ubyte", lambda: labels(N_TRAIN, 1, high=201), "is not a digit 0-9"),
    "label-10": ("t10k-labels-idx1-ubyte", lambda: struct.pack(">ii", 2049, N_TEST) + bytes([10] * N_TEST),
                 "label 10 at item 0"),
}


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_bad_header_is_refused_before_training(case, tmp_path, cli, small_mnist):
    name, blob, words = BAD_HEADERS[case]
    files = dict(small_mnist)
    files[name] = blob()
    write_folder(tmp_path / "data", files)
    assert_refused(train(cli, tmp_path / "data", tmp_path), tmp_path, name, words)


@pytest.mark.parametrize("missing", NAMES)
def test_the_missing_file_is_named(missing, tmp_path, cli, small_mnist):
    write_folder(tmp_path / "data", {n: b for n, b in small_mnist.items() if n != missing})
    r = train(cli, tmp_path / "data", tmp_path)
    text = assert_user_error(r, "train", 1, f"missing {missing} (expected", "--dataset digits")
    assert text.count(missing) == 2  # named as missing, then in the list of expected files


@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink-loop"])
def test_odd_file_in_place_of_a_data_file(kind, tmp_path, cli, small_mnist):
    raw = write_folder(tmp_path / "data", {n: b for n, b in small_mnist.items() if n != NAMES[1]})
    target = raw / NAMES[1]
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    else:
        os.symlink(target, target)
    words = {"fifo": "not a regular file", "folder": "not a regular file", "symlink-loop": "too many symbolic"}
    assert_refused(train(cli, tmp_path / "data", tmp_path), tmp_path, NAMES[1], words[kind])


def test_gz_only_folder_is_used_not_downloaded(tmp_path, cli, small_mnist):
    raw = write_folder(tmp_path / "data", {n + ".gz": gzip.compress(b) for n, b in small_mnist.items()})
    assert M.missing_mnist_files(tmp_path / "data") == []
    r = cli("train", "--dataset", "mnist", "--data-dir", tmp_path / "data", "--epochs", "1", "--hidden", "8",
            "--val-size", "20", "--quiet", "--out", tmp_path / "out.pt")  # download allowed: must not happen
    assert r.code == 0 and "download" not in (r.out + r.err).lower(), r
    for name, blob in small_mnist.items():  # decompressed in place for next time
        assert (raw / name).read_bytes() == blob
    assert temp_files(raw) == []


def test_gz_only_read_only_folder_is_read_in_memory(tmp_path, small_mnist):
    folder = tmp_path / "ro"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        write_folder(folder, {n + ".gz": gzip.compress(b) for n, b in small_mnist.items()})
        if subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only")
        x, y, tx, ty = D.load_mnist_tensors(folder)
        assert x.shape == (N_TRAIN, 28, 28) and ty.shape == (N_TEST,)
        assert sorted(os.listdir(folder / "MNIST" / "raw")) == sorted(n + ".gz" for n in NAMES)
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_corrupt_gz_is_named(tmp_path, cli, small_mnist):
    files = {n + ".gz": gzip.compress(b) for n, b in small_mnist.items()}
    files[NAMES[2] + ".gz"] = files[NAMES[2] + ".gz"][:-40]  # cut short
    raw = write_folder(tmp_path / "data", files)
    assert_refused(train(cli, tmp_path / "data", tmp_path), tmp_path, NAMES[2] + ".gz", "not a valid .gz file")
    assert not (raw / NAMES[2]).exists() and temp_files(raw) == []


def _open_dir(tmp_path: Path) -> Path:
    """A folder user nobody can reach (pytest's own tmp folders are 0700)."""
    folder = Path("/tmp") / f"lstm-faults-{os.getpid()}-{tmp_path.name}"
    folder.mkdir(mode=0o755)
    return folder


@pytest.mark.parametrize("what", ["folder", "file"])
def test_unreadable_data_is_a_message_for_a_normal_user(what, tmp_path, small_mnist):
    import shutil

    root = _open_dir(tmp_path)
    try:
        raw = write_folder(root, small_mnist)
        os.chmod(root / "MNIST", 0o755)
        os.chmod(raw, 0o700 if what == "folder" else 0o755)
        for name in NAMES:
            os.chmod(raw / name, 0o600 if what == "file" else 0o644)
        code = ("from pathlib import Path\nfrom lstm_desktop.core.data import mnist_files as M\n"
                "from lstm_desktop.core.errors import DataError\n"
                f"M.MNIST_FILES.update({M.MNIST_FILES!r})\n"
                f"print('missing:', M.missing_mnist_files(Path({str(root)!r})))\n"
                f"try:\n    M.read_mnist(Path({str(root)!r}))\n    print('read it')\n"
                "except DataError as e:\n    print(e.message)\n")
        done = as_nobody(code)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done
        assert "permission denied" in done.stdout, done
        assert "missing: []" in done.stdout  # an unreadable folder is not a missing one: no re-download
        assert "not found" not in done.stdout
    finally:
        shutil.rmtree(root)


# ----------------------------------------------------------------------------- downloads that stall

@pytest.fixture
def stalled_server():
    """Accepts connections, answers with headers, then sends nothing more: a stalled download."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def serve():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conns.append(conn)
            conn.recv(4096)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n\x1f\x8b")

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/"
    stop.set()
    for c in conns:
        c.close()
    srv.close()


def test_stalled_download_is_cancelled_promptly(tmp_path, stalled_server, monkeypatch):
    monkeypatch.setenv(M.ENV_MIRROR, stalled_server)
    asked = time.monotonic() + 0.3
    start = time.monotonic()
    with pytest.raises(M.DownloadCancelled, match="cancelled"):
        M.download_mnist(tmp_path, should_stop=lambda: time.monotonic() > asked)
    assert time.monotonic() - start < 1.5  # not the 28 s of a blocking read
    assert temp_files(tmp_path / "MNIST" / "raw") == [] and M.missing_mnist_files(tmp_path) == list(NAMES)


def test_stalled_download_times_out_with_a_message(tmp_path, stalled_server, monkeypatch):
    monkeypatch.setenv(M.ENV_MIRROR, stalled_server)
    with pytest.raises(DataError, match="Could not download .*(timed out|no data for 1 s)"):
        M.download_mnist(tmp_path, timeout=1.0)
    assert temp_files(tmp_path / "MNIST" / "raw") == []


def test_ctrl_c_during_a_stalled_download_exits_130_at_once(tmp_path, stalled_server, monkeypatch, cli):
    monkeypatch.setenv(M.ENV_MIRROR, stalled_server)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        r = cli("train", "--dataset", "mnist", "--data-dir", tmp_path / "data", "--epochs", "1", "--quiet",
                "--out", tmp_path / "out.pt")
    finally:
        timer.cancel()
    assert time.monotonic() - start < 4
    assert_user_error(r, "train", 130, "Download cancelled")
    assert not (tmp_path / "out.pt").exists() and temp_files(tmp_path / "data" / "MNIST" / "raw") == []


def test_gz_only_folder_on_a_full_disk_is_read_in_memory(tmp_path, small_mnist):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        raw = write_folder(disk, {n + ".gz": gzip.compress(b) for n, b in small_mnist.items()})
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:  # no room left for the decompressed files
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError:
            pass
        os.close(fd)
        x, y, tx, ty = D.load_mnist_tensors(disk)
        assert x.shape == (N_TRAIN, 28, 28) and int(y.max()) <= 9
        assert temp_files(raw) == [] and not any((raw / n).exists() and (raw / n).stat().st_size == 0 for n in NAMES)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
