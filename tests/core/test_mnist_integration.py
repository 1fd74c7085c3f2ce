"""On the real MNIST files (../shared/data/mnist): the bundle, and a short training well above chance.
Skipped cleanly where the files are absent."""

from __future__ import annotations

import pytest
import torch

from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import DataBundle, mnist_bundle
from lstm_desktop.core.training.session import run_training

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


_CACHE: dict[str, DataBundle] = {}


@pytest.fixture
def bundle(mnist_dir) -> DataBundle:  # mnist_dir skips the test when the files are absent
    if "mnist" not in _CACHE:  # loaded once for both tests (about 190 MB of floats)
        _CACHE["mnist"] = mnist_bundle(str(mnist_dir), val_size=5000, seed=0, download=False)
    return _CACHE["mnist"]


def teardown_module() -> None:
    _CACHE.clear()




def test_real_mnist_bundle_shapes_and_range(bundle):
    assert bundle.train_x.shape == (55_000, 28, 28)
    assert bundle.val_x.shape == (5_000, 28, 28)
    assert bundle.test_x.shape == (10_000, 28, 28)
    assert bundle.train_y.shape == (55_000,) and bundle.test_y.dtype == torch.int64
    for t in (bundle.train_x, bundle.val_x, bundle.test_x):
        assert t.dtype == torch.float32
        assert float(t.min()) == -1.0 and float(t.max()) == 1.0
    assert float(bundle.train_x.mean()) == pytest.approx((0.1307 - 0.5) / 0.5, abs=0.01)  # MNIST's mean pixel
    assert torch.bincount(bundle.test_y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert torch.bincount(bundle.train_y, minlength=10).sum() + torch.bincount(bundle.val_y).sum() == 60_000


def test_short_training_on_a_subset_is_well_above_chance(bundle):
    subset = DataBundle("mnist", bundle.train_x[:3000], bundle.train_y[:3000], bundle.val_x[:500],
                        bundle.val_y[:500], bundle.test_x, bundle.test_y)
    config = TrainConfig(dataset="mnist", hidden=64, epochs=1, batch_size=32, lr=3e-3, device="cpu")
    outcome = run_training(config, data=subset)
    assert outcome.fit.epochs_completed == 1 and outcome.fit.failure is None
    assert outcome.metrics.samples == 10_000
    assert outcome.metrics.accuracy > 0.4  # chance is 0.1; about 0.65 after these 94 steps
    assert outcome.fit.history["val_accuracy"][0] > 0.35
