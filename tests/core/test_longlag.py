"""core.longlag: the temporal order generator is seeded, its labels are right by construction (decoded
back from the sequences), pixel-mnist reshapes MNIST one pixel a step, and every cell trains on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import DataBundle
from lstm_desktop.core.data.catalog import load_bundle
from lstm_desktop.core.training.engine import Trainer
from lstm_desktop.core.errors import DataError
from lstm_desktop.core.data.longlag import (CLASS_NAMES, END, START, SYMBOLS, X, Y, decode_label, pixel_permutation,
                                       relevant_windows, temporal_order_bundle, temporal_order_symbols, to_pixels)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_labels_decode_from_the_sequences_and_the_layout_is_the_papers():
    symbols, labels = temporal_order_symbols(500, 100, seed=4)
    assert symbols.shape == (500, 100) and labels.shape == (500,)
    assert (symbols[:, 0] == START).all() and (symbols[:, -1] == END).all()
    for seq, label in zip(symbols, labels):
        assert decode_label(seq) == label
        where = np.flatnonzero((seq == X) | (seq == Y))
        assert len(where) == 2 and 10 <= where[0] <= 20 and 50 <= where[1] <= 60
        others = np.delete(seq[1:-1], where - 1)
        assert (others < 4).all()  # distractors a, b, c, d only
    assert (np.bincount(labels, minlength=4) > 90).all()  # all four classes, about evenly


def test_decode_label_is_independent_of_the_generator():
    seq = np.array([START, 0, Y, 1, 2, X, 3, END])  # YX
    assert CLASS_NAMES[decode_label(seq)] == "YX"
    assert SYMBOLS[X] == "X" and SYMBOLS[Y] == "Y"
    with pytest.raises(ValueError):
        decode_label(np.array([START, 0, 1, END]))


def test_positions_scale_with_the_length():
    assert relevant_windows(100) == ((10, 20), (50, 60))
    assert relevant_windows(200) == ((20, 40), (100, 120))
    (a1, b1), (a2, b2) = relevant_windows(10)
    assert 1 <= a1 <= b1 < a2 <= b2 <= 8
    with pytest.raises(DataError):
        relevant_windows(5)


def test_generator_is_seeded_and_the_test_set_ignores_the_run_seed():
    a, b = temporal_order_bundle(30, 50, seed=0, train_size=200, test_size=80), \
        temporal_order_bundle(30, 50, seed=0, train_size=200, test_size=80)
    c = temporal_order_bundle(30, 50, seed=1, train_size=200, test_size=80)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.val_y, b.val_y)
    assert not torch.equal(a.train_x, c.train_x)
    assert torch.equal(a.test_x, c.test_x) and torch.equal(a.test_y, c.test_y)
    assert a.train_x.shape == (200, 30, 8) and a.train_x.dtype == torch.float32
    assert torch.equal(a.train_x.sum(-1), torch.ones(200, 30))  # one-hot
    assert a.num_classes == 4 and a.val_x.shape == (20, 30, 8)  # validation: at most a tenth of train
    # the one-hot inputs decode to the labels
    decoded = [decode_label(s) for s in a.test_x.argmax(-1).numpy()]
    assert decoded == a.test_y.tolist()


def test_load_bundle_dispatches_temporal_order():
    data = load_bundle("temporal-order", val_size=100, seed=0, seq_len=20)
    assert data.name == "temporal-order" and data.seq_len == 20 and data.input_size == 8


def test_pixel_layout_and_fixed_permutation():
    imgs = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 28, 28)
    px = to_pixels(imgs)
    assert px.shape == (2, 784, 1)
    assert px[1, 28 * 3 + 5, 0] == imgs[1, 3, 5]  # row by row
    perm = pixel_permutation()
    assert torch.equal(perm, pixel_permutation()) and sorted(perm.tolist()) == list(range(784))
    permuted = to_pixels(imgs, perm)
    assert torch.equal(permuted[:, :, 0], imgs.reshape(2, -1)[:, perm])


def test_pixel_mnist_on_the_real_files_if_present():
    from pathlib import Path

    root = Path("/work/shared/data/mnist")
    if not (root / "MNIST" / "raw" / "t10k-images-idx3-ubyte").is_file():
        pytest.skip("MNIST not available here")
    data = load_bundle("pixel-mnist", data_dir=str(root), val_size=1000, permute=True)
    assert data.train_x.shape[1:] == (784, 1) and data.num_classes == 10
    assert len(data.val_x) == 1000 and len(data.test_x) == 10_000


def _tiny(n: int = 96, seq_len: int = 12) -> DataBundle:
    return temporal_order_bundle(seq_len, 32, seed=0, train_size=n, test_size=32)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dataset", ["temporal-order", "pixel-mnist"])
def test_every_cell_trains_on_every_long_lag_dataset(cell, dataset):
    if dataset == "temporal-order":
        data = _tiny()
    else:  # pixel-mnist's layout on tiny random "images" (the reshaping is tested above)
        g = torch.Generator().manual_seed(0)
        imgs = torch.rand(64, 6, 6, generator=g)
        y = torch.randint(0, 10, (64,), generator=g)
        px = to_pixels(imgs)
        data = DataBundle("pixel-mnist", px[:48], y[:48], px[48:], y[48:], px[48:], y[48:])
    cfg = TrainConfig.for_dataset(dataset, cell=cell, hidden=8, epochs=2, batch_size=32, val_size=16)
    events = []
    result = Trainer(cfg, [events.append]).fit(data)
    assert result.epochs_completed == 2 and result.failure is None
    assert result.model.spec.cell == cell and result.model.spec.chrono_init
    flow = result.history["gradient_flow"]
    assert len(flow) == data.seq_len and all(np.isfinite(flow))
    assert any(type(e).__name__ == "GradientFlowMeasured" for e in events)
    assert np.isfinite(result.history["train_loss"]).all()


def test_four_classes_end_to_end_through_the_session(tmp_path):
    from lstm_desktop.core.models.checkpoint import load_checkpoint
    from lstm_desktop.core.training.session import run_training

    cfg = TrainConfig.for_dataset("temporal-order", cell="gru", hidden=8, epochs=1, batch_size=32, seq_len=12)
    outcome = run_training(cfg, data=_tiny(), out=tmp_path / "t.pt")
    summary = outcome.summary()
    assert 0.0 <= summary["accuracy"] <= 1.0 and summary["dataset"] == "temporal-order"
    assert len(summary["gradient_flow"]) == 12
    assert len(outcome.metrics.confusion) == 4 and all(len(row) == 4 for row in outcome.metrics.confusion)
    ckpt = load_checkpoint(tmp_path / "t.pt")
    assert ckpt.spec.cell == "gru" and ckpt.spec.num_classes == 4
    assert type(ckpt.model.lstm) is torch.nn.GRU
