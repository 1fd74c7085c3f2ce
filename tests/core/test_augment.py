"""augment_batch: same shape, same value range, really different images, seeded, identity when off."""

from __future__ import annotations

import pytest
import torch

from lstm_desktop.core.augment import AugmentSettings, augment_batch
from lstm_desktop.core.data import synthetic_bundle


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models: 1 thread is fastest on 2 shared cores


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    return synthetic_bundle(n=120, seed=0).train_x[:64]


def test_keeps_shape_dtype_and_range_and_changes_images(batch):
    out = augment_batch(batch, torch.Generator().manual_seed(0))
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert out.min() >= -1.0 and out.max() <= 1.0
    changed = (out - batch).abs().flatten(1).amax(1) > 0.05
    assert changed.float().mean() > 0.7  # about 90% of the batch is augmented by default
    assert torch.isfinite(out).all()


def test_input_is_not_modified(batch):
    before = batch.clone()
    augment_batch(batch, torch.Generator().manual_seed(0))
    assert torch.equal(batch, before)


def test_seeded_generator_is_reproducible(batch):
    a = augment_batch(batch, torch.Generator().manual_seed(3))
    b = augment_batch(batch, torch.Generator().manual_seed(3))
    c = augment_batch(batch, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_probability_zero_is_the_identity(batch):
    out = augment_batch(batch, torch.Generator().manual_seed(0), AugmentSettings(probability=0.0))
    assert torch.allclose(out, batch, atol=1e-5)


def test_works_on_other_image_sizes():
    x = synthetic_bundle(n=60, size=8).train_x[:10]
    out = augment_batch(x, torch.Generator().manual_seed(0))
    assert out.shape == (10, 8, 8) and out.min() >= -1 and out.max() <= 1
