"""Long-lag datasets: the 1997 LSTM paper's temporal order problem (generated) and pixel-by-pixel MNIST.

Why: these are the tasks on which a plain RNN's gradient vanishes over the lag and an LSTM's
does not (Hochreiter & Schmidhuber 1997, experiment 6a; Le et al. 2015 for pixel MNIST).

temporal-order: each sequence is B, distractors from {a, b, c, d}, E; two relevant symbols, each
X or Y, sit at t1 in the first fifth (10..20 of 100) and t2 around the middle (50..60 of 100),
scaled with the length. The class is their order: XX=0, XY=1, YX=2, YY=3. Inputs are one-hot
over the 8 symbols. Every split comes from its own fixed seed (the test set never depends on the
run seed), so every run is scored on the same sequences.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from lstm_desktop.core.data.image_sets import Callback, DataBundle, mnist_bundle
from lstm_desktop.core.errors import DataError

SYMBOLS = ("a", "b", "c", "d", "X", "Y", "B", "E")
DISTRACTORS = 4  # a, b, c, d are symbols 0..3
X, Y, START, END = 4, 5, 6, 7
CLASS_NAMES = ("XX", "XY", "YX", "YY")
MIN_LENGTH = 10

TRAIN_SIZE = 10_000
TEST_SIZE = 2_000
TEST_SEED = 1_997  # the test set: the same for every run
TRAIN_SEED = 6_101  # plus the run seed: train and validation sets
PERMUTATION_SEED = 784  # pixel-mnist's fixed permutation, independent of the run seed


def relevant_windows(seq_len: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Inclusive ranges of t1 and t2: the paper's [10, 20] and [50, 60] for length 100, scaled."""
    if seq_len < MIN_LENGTH:
        raise DataError(f"A temporal-order sequence needs at least {MIN_LENGTH} steps, not {seq_len}.",
                        f"Set the sequence length to {MIN_LENGTH} or more.")
    scale = seq_len / 100.0
    first = (max(1, round(10 * scale)), max(1, round(20 * scale)))
    second = (max(first[1] + 1, round(50 * scale)), min(seq_len - 2, max(first[1] + 1, round(60 * scale))))
    return first, second


def temporal_order_symbols(n: int, seq_len: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(symbols (n, seq_len) int64 indices into SYMBOLS, labels (n,) int64), deterministic in seed."""
    (a1, b1), (a2, b2) = relevant_windows(seq_len)
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, DISTRACTORS, size=(n, seq_len), dtype=np.int64)
    seq[:, 0], seq[:, -1] = START, END
    t1 = rng.integers(a1, b1 + 1, size=n)
    t2 = rng.integers(a2, b2 + 1, size=n)
    first_is_y = rng.integers(0, 2, size=n)
    second_is_y = rng.integers(0, 2, size=n)
    rows = np.arange(n)
    seq[rows, t1] = X + first_is_y
    seq[rows, t2] = X + second_is_y
    return seq, (2 * first_is_y + second_is_y).astype(np.int64)


def decode_label(symbols: np.ndarray) -> int:
    """The class read back from one sequence of symbol indices: the order of its X/Y symbols."""
    relevant = [int(s) for s in symbols if s in (X, Y)]
    if len(relevant) != 2:
        raise ValueError(f"expected two relevant symbols, found {len(relevant)}")
    return 2 * (relevant[0] == Y) + (relevant[1] == Y)


def one_hot(symbols: np.ndarray) -> torch.Tensor:
    """(n, T) symbol indices -> (n, T, 8) float32 one-hot inputs."""
    return torch.nn.functional.one_hot(torch.from_numpy(symbols), len(SYMBOLS)).float()


def temporal_order_bundle(seq_len: int = 100, val_size: int = 1000, seed: int = 0,
                          train_size: int = TRAIN_SIZE, test_size: int = TEST_SIZE) -> DataBundle:
    """Fixed train/validation/test sets of the temporal order problem (4 classes).

    Validation is generated apart from training, at most a tenth of its size (the app's default
    of 5,000 would make validation a third of each epoch's time for no better estimate).
    """
    val_size = max(0, min(val_size, train_size // 10))
    train_s, train_y = temporal_order_symbols(train_size, seq_len, TRAIN_SEED + seed)
    val_s, val_y = temporal_order_symbols(val_size, seq_len, TRAIN_SEED + seed + 500_000)
    test_s, test_y = temporal_order_symbols(test_size, seq_len, TEST_SEED)
    return DataBundle("temporal-order", one_hot(train_s), torch.from_numpy(train_y),
                      one_hot(val_s), torch.from_numpy(val_y), one_hot(test_s), torch.from_numpy(test_y),
                      num_classes=len(CLASS_NAMES))


def pixel_permutation(seed: int = PERMUTATION_SEED, size: int = 784) -> torch.Tensor:
    return torch.randperm(size, generator=torch.Generator().manual_seed(seed))


def to_pixels(x: torch.Tensor, permutation: torch.Tensor | None = None) -> torch.Tensor:
    """(N, 28, 28) images -> (N, 784, 1): one pixel a step, row by row (or in a fixed permuted order)."""
    flat = x.flatten(1)  # (0, 28, 28) too: --val-size 0 gives no validation images
    if permutation is not None:
        flat = flat.index_select(1, permutation)
    return flat.unsqueeze(-1).contiguous()


def pixel_mnist_bundle(data_dir: str | None, val_size: int = 5000, seed: int = 0, permute: bool = False,
                       download: bool = False, callback: Callback | None = None,
                       should_stop: Callable[[], bool] | None = None) -> DataBundle:
    """MNIST (same split and normalisation as `mnist`) read one pixel per time step."""
    images = mnist_bundle(data_dir, val_size, seed, download, callback, should_stop)
    perm = pixel_permutation() if permute else None
    return DataBundle("pixel-mnist", to_pixels(images.train_x, perm), images.train_y,
                      to_pixels(images.val_x, perm), images.val_y,
                      to_pixels(images.test_x, perm), images.test_y, num_classes=10)


def longlag_bundle(dataset: str, data_dir: str | None = None, val_size: int = 1000, seed: int = 0,
                   seq_len: int = 100, permute: bool = False, download: bool = False,
                   callback: Callback | None = None, should_stop: Callable[[], bool] | None = None) -> DataBundle:
    """The long-lag dataset `dataset` ("temporal-order" or "pixel-mnist") as tensors."""
    if dataset == "temporal-order":
        return temporal_order_bundle(seq_len, val_size, seed)
    if dataset == "pixel-mnist":
        return pixel_mnist_bundle(data_dir, val_size, seed, permute, download, callback, should_stop)
    raise DataError(f"Unknown long-lag dataset {dataset!r}.", "Use temporal-order or pixel-mnist.")
