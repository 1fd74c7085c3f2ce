"""Datasets: where MNIST is looked for, what a broken or missing file says, the offline sets, the splits,
and the download path against a local fake mirror (no network)."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_desktop.core.data import image_sets as D
from lstm_desktop.core.data import mnist_files as M
from lstm_desktop.core.errors import DataError
from lstm_desktop.core.training.events import DownloadProgress

N_TRAIN, N_TEST = 200, 40  # 200 * 784 random bytes ~ 157 KB: three 64 KiB download chunks


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models: 1 thread is fastest on 2 shared cores


# ----------------------------------------------------------------------------- fake MNIST files

def idx_images(n: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return struct.pack(">iiii", 2051, n, 28, 28) + rng.integers(0, 256, n * 784, dtype=np.uint8).tobytes()


def idx_labels(n: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed + 1)
    return struct.pack(">ii", 2049, n) + rng.integers(0, 10, n, dtype=np.uint8).tobytes()


def fake_raw_files() -> dict[str, bytes]:
    return {"train-images-idx3-ubyte": idx_images(N_TRAIN, 0), "train-labels-idx1-ubyte": idx_labels(N_TRAIN, 0),
            "t10k-images-idx3-ubyte": idx_images(N_TEST, 5), "t10k-labels-idx1-ubyte": idx_labels(N_TEST, 5)}


@pytest.fixture
def small_mnist(monkeypatch):
    """Make the core expect the small fake files (sizes and MD5s); return name -> raw bytes."""
    raw = fake_raw_files()
    sizes = {name: (2051 if "images" in name else 2049, len(blob)) for name, blob in raw.items()}
    gz = {name + ".gz": gzip.compress(blob, mtime=0) for name, blob in raw.items()}
    md5 = {k: hashlib.md5(v).hexdigest() for k, v in gz.items()}
    monkeypatch.setattr(M, "MNIST_FILES", sizes)  # the one home of MNIST's tables
    monkeypatch.setattr(M, "MNIST_MD5", md5)
    return {"raw": raw, "gz": gz}


def write_raw(root: Path, raw: dict[str, bytes]) -> Path:
    folder = root / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    for name, blob in raw.items():
        (folder / name).write_bytes(blob)
    return folder


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def serve(tmp_path):
    """serve(files) -> base URL of a local HTTP server holding `files` (name -> bytes)."""
    servers = []

    def start(files: dict[str, bytes]) -> str:
        folder = tmp_path / f"mirror{len(servers)}"
        folder.mkdir()
        for name, blob in files.items():
            (folder / name).write_bytes(blob)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                 functools.partial(_Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more


def leftovers(folder: Path) -> list[str]:
    if not folder.exists():  # a failed download removes the empty folders it made
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".part", ".gz", ".tmp")))


# ----------------------------------------------------------------------------- where the data is

def test_resolve_data_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv(D.ENV_DATA_DIR, str(tmp_path / "from-env"))
    assert D.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"  # argument wins
    assert D.resolve_data_dir(None) == tmp_path / "from-env"  # then the environment
    monkeypatch.delenv(D.ENV_DATA_DIR)
    assert D.resolve_data_dir(None) == Path.home() / ".pytorch" / "MNIST_data"  # then the notebook's
    assert D.resolve_data_dir("~/x") == Path.home() / "x"


def _assert_helpful_missing_message(exc: DataError, root: Path) -> None:
    text = str(exc)
    assert str(root / "MNIST" / "raw") in text
    for name in M.MNIST_FILES:
        assert name in text
    assert "--dataset digits" in text
    assert "Traceback" not in text


def test_missing_files_message_names_folder_files_and_offline_option(tmp_path, monkeypatch):
    monkeypatch.delenv(D.ENV_DATA_DIR, raising=False)
    with pytest.raises(DataError) as info:
        D.mnist_bundle(str(tmp_path), download=False)
    _assert_helpful_missing_message(info.value, tmp_path)
    with pytest.raises(DataError):  # the torchvision path says the same
        D.load_mnist_tensors(tmp_path)


def test_one_missing_file_is_reported(tmp_path, small_mnist):
    raw = dict(small_mnist["raw"])
    del raw["t10k-labels-idx1-ubyte"]
    write_raw(tmp_path, raw)
    assert M.missing_mnist_files(tmp_path) == ["t10k-labels-idx1-ubyte"]
    with pytest.raises(DataError, match="not found"):
        D.mnist_bundle(str(tmp_path), download=False)


def test_truncated_file_gives_clear_data_error(tmp_path, small_mnist):
    folder = write_raw(tmp_path, small_mnist["raw"])
    blob = small_mnist["raw"]["train-images-idx3-ubyte"]
    (folder / "train-images-idx3-ubyte").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError) as info:
        D.mnist_bundle(str(tmp_path))
    text = str(info.value)
    assert "train-images-idx3-ubyte is truncated" in text
    assert f"expected {len(blob):,}" in text and "download" in text.lower()
    assert "numpy" not in text and "Traceback" not in text


def test_foreign_file_gives_clear_data_error(tmp_path, small_mnist):
    folder = write_raw(tmp_path, small_mnist["raw"])
    size = len(small_mnist["raw"]["t10k-labels-idx1-ubyte"])
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"<html>" + b" " * (size - 6))  # right size, wrong magic
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte is not an MNIST file"):
        D.mnist_bundle(str(tmp_path))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"")  # empty
    with pytest.raises(DataError, match="not an MNIST file"):
        D.mnist_bundle(str(tmp_path))


def test_inconsistent_header_is_a_data_error_not_a_bare_assertion(tmp_path, small_mnist):
    folder = write_raw(tmp_path, small_mnist["raw"])
    blob = bytearray(small_mnist["raw"]["train-labels-idx1-ubyte"])
    blob[4:8] = struct.pack(">i", N_TRAIN + 1)  # says one label more than the file holds
    (folder / "train-labels-idx1-ubyte").write_bytes(bytes(blob))
    with pytest.raises(DataError, match="could not be read"):
        D.mnist_bundle(str(tmp_path))


def test_local_fake_mnist_bundle_shapes_range_and_split(tmp_path, small_mnist):
    write_raw(tmp_path, small_mnist["raw"])
    b = D.mnist_bundle(str(tmp_path), val_size=30, seed=0)
    assert b.name == "mnist"
    assert b.train_x.shape == (N_TRAIN - 30, 28, 28) and b.val_x.shape == (30, 28, 28)
    assert b.test_x.shape == (N_TEST, 28, 28) and b.test_y.dtype == torch.int64
    assert b.seq_len == 28 and b.input_size == 28
    for t in (b.train_x, b.val_x, b.test_x):
        assert t.dtype == torch.float32 and t.min() >= -1.0 and t.max() <= 1.0
    assert b.train_x.min() == -1.0 and b.train_x.max() == 1.0  # 0 -> -1, 255 -> 1
    # the test images are exactly the file's pixels, normalised
    pixels = np.frombuffer(small_mnist["raw"]["t10k-images-idx3-ubyte"][16:], np.uint8).reshape(-1, 28, 28)
    assert torch.allclose(b.test_x, D.normalize(torch.from_numpy(pixels.astype(np.float32)) / 255.0))
    again = D.mnist_bundle(str(tmp_path), val_size=30, seed=0)
    assert torch.equal(again.val_x, b.val_x) and torch.equal(again.train_y, b.train_y)
    other = D.mnist_bundle(str(tmp_path), val_size=30, seed=1)
    assert not torch.equal(other.val_x, b.val_x)


# ----------------------------------------------------------------------------- splits and offline sets

def test_split_is_disjoint_complete_and_deterministic():
    x = torch.arange(1000)
    y = torch.arange(1000) % 10
    tx, ty, vx, vy = D._split(x, y, 100, seed=3)
    assert len(vx) == 100 and len(tx) == 900
    assert set(tx.tolist()).isdisjoint(vx.tolist())
    assert set(tx.tolist()) | set(vx.tolist()) == set(range(1000))
    assert torch.equal(ty, tx % 10) and torch.equal(vy, vx % 10)  # labels travel with their images
    tx2, _, vx2, _ = D._split(x, y, 100, seed=3)
    assert torch.equal(tx, tx2) and torch.equal(vx, vx2)
    _, _, vx3, _ = D._split(x, y, 100, seed=4)
    assert not torch.equal(vx, vx3)
    _, _, vhalf, _ = D._split(x, y, 10_000, seed=0)  # never more than half goes to validation
    assert len(vhalf) == 500


def test_digits_bundle_shapes_range_and_fixed_test_split():
    b = D.digits_bundle(val_size=200, seed=0)
    assert b.name == "digits" and b.seq_len == 8 and b.input_size == 8
    n = len(b.train_x) + len(b.val_x) + len(b.test_x)
    assert n == 1797 and len(b.test_x) == 1797 // 5 and len(b.val_x) == 200
    assert b.train_x.shape[1:] == (8, 8)
    for t in (b.train_x, b.val_x, b.test_x):
        assert t.min() >= -1.0 and t.max() <= 1.0
    assert b.train_x.min() == -1.0 and b.train_x.max() == 1.0
    assert set(b.train_y.unique().tolist()) == set(range(10))
    b2 = D.digits_bundle(val_size=200, seed=0)
    assert torch.equal(b.val_x, b2.val_x) and torch.equal(b.train_x, b2.train_x)
    b3 = D.digits_bundle(val_size=200, seed=1)
    assert torch.equal(b.test_x, b3.test_x)  # the test set does not depend on the seed
    assert not torch.equal(b.val_y, b3.val_y)


def test_synthetic_bundle_is_small_learnable_and_seeded():
    b = D.synthetic_bundle(n=120, seed=0)
    assert b.train_x.shape == (100, 28, 28) and b.val_x.shape == (20, 28, 28) and b.test_x.shape == (50, 28, 28)
    assert b.train_x.min() >= -1 and b.train_x.max() <= 1
    assert torch.equal(D.synthetic_bundle(n=120, seed=0).train_x, b.train_x)
    small = D.synthetic_bundle(n=60, size=12)
    assert small.seq_len == 12 and small.input_size == 12


def test_load_bundle_dispatch_and_unknown_name():
    assert D.load_bundle("synthetic").name == "synthetic"
    assert D.load_bundle("digits", val_size=5000).val_x.shape[0] == 200  # capped for the small set
    with pytest.raises(DataError, match="Unknown dataset"):
        D.load_bundle("cifar")


def test_bundle_to_keeps_everything():
    b = D.synthetic_bundle(n=60)
    moved = b.to(torch.device("cpu"))
    assert moved.name == b.name and moved.num_classes == 10 and torch.equal(moved.test_y, b.test_y)
    assert torch.allclose(D.denormalize(D.normalize(b.test_x)), b.test_x)


# ----------------------------------------------------------------------------- download (local fake mirror)

def test_download_writes_the_four_files_with_progress(tmp_path, small_mnist, serve, monkeypatch):
    monkeypatch.setenv(M.ENV_MIRROR, serve(small_mnist["gz"]).rstrip("/"))  # no trailing slash is fine
    events: list[DownloadProgress] = []
    b = D.load_bundle("mnist", str(tmp_path / "data"), val_size=20, download=True, callback=events.append)
    folder = tmp_path / "data" / "MNIST" / "raw"
    for name, blob in small_mnist["raw"].items():
        assert (folder / name).read_bytes() == blob
    assert leftovers(folder) == []
    assert b.train_x.shape == (N_TRAIN - 20, 28, 28) and b.test_x.shape == (N_TEST, 28, 28)

    assert all(isinstance(e, DownloadProgress) for e in events)
    assert {e.file for e in events} == set(small_mnist["raw"])
    for name in small_mnist["raw"]:
        mine = [e for e in events if e.file == name]
        total = len(small_mnist["gz"][name + ".gz"])
        done = [e.done_bytes for e in mine]
        assert done == sorted(done) and len(set(done)) == len(done)  # strictly increasing
        assert done[-1] == total and all(e.total_bytes == total for e in mine)
    assert len([e for e in events if e.file == "train-images-idx3-ubyte"]) >= 3


def test_download_falls_back_to_the_next_mirror(tmp_path, small_mnist, serve, monkeypatch):
    monkeypatch.setenv(M.ENV_MIRROR, f"{refused_url()},{serve(small_mnist['gz'])}")
    M.download_mnist(tmp_path)
    assert M.missing_mnist_files(tmp_path) == []


def _assert_download_error(exc: DataError, root: Path, *fragments: str) -> None:
    text = str(exc)
    assert str(root / "MNIST" / "raw") in text
    for name in M.MNIST_FILES:
        assert name in text
    assert "--dataset digits" in text
    assert "Traceback" not in text
    for f in fragments:
        assert f in text


def test_download_404_gives_clear_error(tmp_path, small_mnist, serve, monkeypatch):
    monkeypatch.setenv(M.ENV_MIRROR, serve({}))  # an empty mirror: every file is a 404
    with pytest.raises(DataError) as info:
        D.mnist_bundle(str(tmp_path), download=True)
    _assert_download_error(info.value, tmp_path, "Could not download train-images-idx3-ubyte.gz")
    assert "not found" in str(info.value).lower()
    assert leftovers(tmp_path / "MNIST" / "raw") == []


def test_download_refused_port_gives_clear_error(tmp_path, small_mnist, monkeypatch):
    monkeypatch.setenv(M.ENV_MIRROR, refused_url())
    with pytest.raises(DataError) as info:
        M.download_mnist(tmp_path)
    _assert_download_error(info.value, tmp_path, "Could not download", "refused")


def test_bad_md5_is_rejected_and_leaves_no_partial_file(tmp_path, small_mnist, serve, monkeypatch):
    monkeypatch.setitem(M.MNIST_MD5, "t10k-labels-idx1-ubyte.gz", "0" * 32)
    monkeypatch.setenv(M.ENV_MIRROR, serve(small_mnist["gz"]))
    with pytest.raises(DataError) as info:
        M.download_mnist(tmp_path)
    _assert_download_error(info.value, tmp_path, "t10k-labels-idx1-ubyte.gz", "checksum mismatch")
    folder = tmp_path / "MNIST" / "raw"
    assert not (folder / "t10k-labels-idx1-ubyte").exists()
    assert leftovers(folder) == []
    assert M.missing_mnist_files(tmp_path) == ["t10k-labels-idx1-ubyte"]  # the good ones are kept


def test_undecompressable_download_leaves_no_partial_file(tmp_path, small_mnist, serve, monkeypatch):
    gz = dict(small_mnist["gz"])
    broken = gz["train-labels-idx1-ubyte.gz"][:-12] + b"\0" * 12  # bad CRC / length trailer
    gz["train-labels-idx1-ubyte.gz"] = broken
    monkeypatch.setitem(M.MNIST_MD5, "train-labels-idx1-ubyte.gz", hashlib.md5(broken).hexdigest())
    monkeypatch.setenv(M.ENV_MIRROR, serve(gz))
    with pytest.raises(DataError, match="Could not download train-labels-idx1-ubyte.gz"):
        M.download_mnist(tmp_path)
    folder = tmp_path / "MNIST" / "raw"
    assert not (folder / "train-labels-idx1-ubyte").exists()
    assert leftovers(folder) == []


class _ShortBody(http.server.BaseHTTPRequestHandler):
    """Promises more bytes than it sends, then hangs up: a dropped connection mid-download."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "200000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + b"x" * 1000)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


class _ShortChunk(_ShortBody):
    """The same with chunked transfer encoding: http.client raises IncompleteRead (not an OSError)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"1000\r\n" + b"x" * 100)
        self.wfile.flush()
        self.close_connection = True


@pytest.mark.parametrize("handler", [_ShortBody, _ShortChunk])
def test_connection_dropped_mid_download_is_a_data_error(tmp_path, small_mnist, monkeypatch, handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        monkeypatch.setenv(M.ENV_MIRROR, f"http://127.0.0.1:{server.server_address[1]}/")
        with pytest.raises(DataError) as info:
            M.download_mnist(tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    _assert_download_error(info.value, tmp_path, "Could not download")
    assert leftovers(tmp_path / "MNIST" / "raw") == []


def test_download_can_be_cancelled(tmp_path, small_mnist, serve, monkeypatch):
    monkeypatch.setenv(M.ENV_MIRROR, serve(small_mnist["gz"]))
    with pytest.raises(DataError, match="cancelled"):
        M.download_mnist(tmp_path, should_stop=lambda: True)
    assert M.missing_mnist_files(tmp_path) == list(M.MNIST_FILES)
    assert leftovers(tmp_path / "MNIST" / "raw") == []


def test_unwritable_data_folder_is_a_data_error(tmp_path, small_mnist):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match="Cannot create the data folder"):
        M.download_mnist(blocker)
