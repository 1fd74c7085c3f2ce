"""Datasets as tensors loaded once: MNIST (torchvision, local or downloaded), sklearn digits, synthetic.

Batches are made by indexing these tensors, never by per-sample PIL transforms: that is where the
notebook spent 41% of its epoch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from lstm_desktop.core.errors import DataError
from lstm_desktop.core.training.events import DownloadProgress
from lstm_desktop.core.data.mnist_files import download_mnist, missing_data_message, missing_mnist_files, read_mnist

Callback = Callable[[DownloadProgress], None]  # receives download progress events

MEAN = 0.5  # the notebook's Normalize((0.5,), (0.5,))
STD = 0.5
ENV_DATA_DIR = "LSTM_DESKTOP_DATA"
DEFAULT_DATA_DIR = Path("~/.pytorch/MNIST_data").expanduser()


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


def load_mnist_tensors(root: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """uint8 images and int64 labels, every header validated first (core/data/mnist_files.py)."""
    arrays = read_mnist(root)
    as_tensor = lambda name, dtype: torch.from_numpy(arrays[name].copy()).to(dtype)  # noqa: E731
    return (as_tensor("train-images-idx3-ubyte", torch.uint8), as_tensor("train-labels-idx1-ubyte", torch.int64),
            as_tensor("t10k-images-idx3-ubyte", torch.uint8), as_tensor("t10k-labels-idx1-ubyte", torch.int64))


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
    missing = missing_mnist_files(root)
    if missing:
        if not download:
            raise missing_data_message(root, missing)
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
    """The image datasets. Every dataset, long-lag tasks included: core.datasets.load_bundle."""
    if dataset == "mnist":
        return mnist_bundle(data_dir, val_size, seed, download, callback, should_stop)
    if dataset == "digits":
        return digits_bundle(min(val_size, 200), seed)
    if dataset == "synthetic":
        return synthetic_bundle(seed=seed)
    raise DataError(f"Unknown dataset {dataset!r}.", "Use mnist, digits, temporal-order, pixel-mnist or synthetic.")
