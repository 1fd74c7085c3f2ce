"""Datasets as tensors loaded once: MNIST (torchvision, local or downloaded), sklearn digits, synthetic.

Batches are made by indexing these tensors, never by per-sample PIL transforms: that is where the
notebook spent 41% of its epoch.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from lstm_desktop.core.errors import DataError
from lstm_desktop.core.events import Callback, DownloadProgress

MEAN = 0.5  # the notebook's Normalize((0.5,), (0.5,))
STD = 0.5
ENV_DATA_DIR = "LSTM_DESKTOP_DATA"
ENV_MIRROR = "LSTM_DESKTOP_MNIST_MIRROR"
DEFAULT_DATA_DIR = Path("~/.pytorch/MNIST_data").expanduser()

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


@dataclass
class DataBundle:
    """Train/validation/test tensors, already normalised: shape (N, steps, features)."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int = 10

    @property
    def seq_len(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def input_size(self) -> int:
        return int(self.train_x.shape[2])

    def to(self, device: torch.device) -> "DataBundle":
        move = lambda t: t.to(device)  # noqa: E731
        return DataBundle(self.name, *(move(t) for t in (self.train_x, self.train_y, self.val_x,
                                                       self.val_y, self.test_x, self.test_y)),
                          num_classes=self.num_classes)


def normalize(images01: torch.Tensor) -> torch.Tensor:
    """[0, 1] pixels to the model's input range, as the notebook did."""
    return (images01 - MEAN) / STD


def denormalize(x: torch.Tensor) -> torch.Tensor:
    return x * STD + MEAN


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir, else $LSTM_DESKTOP_DATA, else the notebook's folder (so its download is reused)."""
    if data_dir:
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return DEFAULT_DATA_DIR


def mnist_raw_dir(root: Path) -> Path:
    return root / "MNIST" / "raw"


def missing_mnist_files(root: Path) -> list[str]:
    raw = mnist_raw_dir(root)
    return [name for name in MNIST_FILES if not (raw / name).is_file()]


def check_mnist_files(root: Path) -> None:
    """Fail with a clear message for truncated or foreign files, before numpy sees them."""
    raw = mnist_raw_dir(root)
    for name, (magic, size) in MNIST_FILES.items():
        path = raw / name
        actual = path.stat().st_size
        with open(path, "rb") as fh:
            head = int.from_bytes(fh.read(4), "big")
        if head != magic or actual != size:
            what = "truncated" if head == magic and actual < size else "not an MNIST file"
            raise DataError(
                f"{path} is {what} ({actual:,} bytes, expected {size:,}).",
                f"Delete it and download MNIST again, or choose another data folder.",
            )


def missing_data_message(root: Path) -> DataError:
    raw = mnist_raw_dir(root)
    names = ", ".join(MNIST_FILES)
    return DataError(
        f"MNIST was not found in {raw} (expected the files {names}).",
        "Download it (needs internet), point --data-dir / LSTM_DESKTOP_DATA at a folder that "
        "holds MNIST/raw/, or use the offline dataset: --dataset digits.",
    )


def _mirrors() -> list[str]:
    env = os.environ.get(ENV_MIRROR)
    if env:
        return [m if m.endswith("/") else m + "/" for m in env.split(",")]
    try:
        from torchvision.datasets import MNIST

        return list(MNIST.mirrors)
    except Exception:  # pragma: no cover - torchvision always has mirrors
        return ["https://ossci-datasets.s3.amazonaws.com/mnist/"]


def download_mnist(root: Path, callback: Callback | None = None, timeout: float = 30.0,
                   should_stop: Callable[[], bool] | None = None) -> None:
    """Fetch the missing MNIST files with progress events; verify MD5; write atomically."""
    raw = mnist_raw_dir(root)
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the data folder {raw}: {exc.strerror}.",
                        "Choose a folder you can write to.") from exc
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
            except (urllib.error.URLError, OSError, ValueError, EOFError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", None) or exc
                errors.append(f"{url}: {reason}")
        else:
            raise DataError(
                f"Could not download {gz_name} (tried {len(_mirrors())} mirrors; last error: {errors[-1]}).",
                f"Check the internet connection, or copy the four MNIST files "
                f"({', '.join(MNIST_FILES)}) into {raw}, or use the offline dataset (--dataset digits).",
            )
    check_mnist_files(root)


def _fetch_one(url: str, target: Path, md5: str, callback: Callback | None, timeout: float,
               should_stop: Callable[[], bool] | None) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed https mirrors
        total = int(response.headers.get("Content-Length") or 0)
        digest = hashlib.md5()
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".gz.part") as tmp:
            done = 0
            try:
                while chunk := response.read(1 << 16):
                    if should_stop is not None and should_stop():
                        raise DataError("Download cancelled.", "Start it again when you are ready.")
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
            shutil.copyfileobj(src, dst)
        os.replace(part, target)
    finally:
        gz_path.unlink(missing_ok=True)
        part.unlink(missing_ok=True)  # a failed decompression (bad gzip, full disk) leaves nothing


def load_mnist_tensors(root: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """uint8 images and int64 labels through torchvision, with errors turned into DataError."""
    missing = missing_mnist_files(root)
    if missing:
        raise missing_data_message(root)
    check_mnist_files(root)
    try:
        from torchvision.datasets import MNIST

        train = MNIST(str(root), train=True, download=False)
        test = MNIST(str(root), train=False, download=False)
        return train.data, train.targets, test.data, test.targets
    except Exception as exc:  # torchvision's parser raises bare RuntimeErrors on bad files
        raise DataError(f"MNIST files in {mnist_raw_dir(root)} could not be read: {exc}",
                        "Delete them and download again, or choose another data folder.") from exc


def _split(x: torch.Tensor, y: torch.Tensor, val_size: int, seed: int):
    val_size = min(val_size, len(x) // 2)
    g = torch.Generator().manual_seed(seed + 9_973)
    perm = torch.randperm(len(x), generator=g)
    val_idx, train_idx = perm[:val_size], perm[val_size:]
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx]


def mnist_bundle(data_dir: str | None, val_size: int = 5000, seed: int = 0,
                 download: bool = False, callback: Callback | None = None,
                 should_stop: Callable[[], bool] | None = None) -> DataBundle:
    root = resolve_data_dir(data_dir)
    if missing_mnist_files(root):
        if not download:
            raise missing_data_message(root)
        download_mnist(root, callback, should_stop=should_stop)
    tr_x, tr_y, te_x, te_y = load_mnist_tensors(root)
    to_input = lambda u8: normalize(u8.float().div_(255.0))  # noqa: E731
    tx, ty, vx, vy = _split(tr_x, tr_y, val_size, seed)
    return DataBundle("mnist", to_input(tx), ty.long(), to_input(vx), vy.long(),
                      to_input(te_x), te_y.long())


def digits_bundle(val_size: int = 200, seed: int = 0) -> DataBundle:
    """scikit-learn's bundled 8x8 digits: 8 steps of 8 pixels; works anywhere, offline."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy((d.images / 16.0).astype(np.float32))
    y = torch.from_numpy(d.target.astype(np.int64))
    g = torch.Generator().manual_seed(12_345)  # a fixed test split, whatever the seed
    perm = torch.randperm(len(x), generator=g)
    n_test = len(x) // 5
    test_idx, rest = perm[:n_test], perm[n_test:]
    tx, ty, vx, vy = _split(x[rest], y[rest], min(val_size, len(rest) // 5), seed)
    return DataBundle("digits", normalize(tx), ty, normalize(vx), vy,
                      normalize(x[test_idx]), y[test_idx])


def synthetic_images(n: int, seed: int = 0, size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """Tiny learnable stand-in for MNIST in tests: class k lights a bar whose row depends on k."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.rand(n, size, size, generator=g) * 0.1
    rows = (y * (size - 2) // 10).long() + 1
    cols = (y % 3) * (size // 3)
    for i in range(n):
        r, c = int(rows[i]), int(cols[i])
        x[i, r - 1:r + 1, c:c + size // 3 + 1] = 1.0
    return x, y


def synthetic_bundle(n: int = 600, seed: int = 0, size: int = 28) -> DataBundle:
    x, y = synthetic_images(n, seed, size)
    xt, yt = synthetic_images(max(n // 5, 50), seed + 1, size)
    tx, ty, vx, vy = _split(x, y, n // 6, seed)
    return DataBundle("synthetic", normalize(tx), ty, normalize(vx), vy, normalize(xt), yt)


def load_bundle(dataset: str, data_dir: str | None = None, val_size: int = 5000, seed: int = 0,
                download: bool = False, callback: Callback | None = None,
                should_stop: Callable[[], bool] | None = None) -> DataBundle:
    if dataset == "mnist":
        return mnist_bundle(data_dir, val_size, seed, download, callback, should_stop)
    if dataset == "digits":
        return digits_bundle(min(val_size, 200), seed)
    if dataset == "synthetic":
        return synthetic_bundle(seed=seed)
    raise DataError(f"Unknown dataset {dataset!r}.", "Use mnist, digits or synthetic.")
