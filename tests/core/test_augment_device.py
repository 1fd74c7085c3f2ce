"""Augmentation drawn on the batch's device: seeded, the distributions its settings say, the GPU's
way (every image, torch.where) equal to the CPU's (only the chosen images), and on CUDA no host
synchronisation in an augmented batch."""

from __future__ import annotations

import math

import pytest
import torch

from lstm_desktop.core.data import augment_ops
from lstm_desktop.core.data import handwriting_augment
from lstm_desktop.core.data.augment import HANDWRITING, PLAIN, AugmentSettings, EpochAugmenter, augment_batch, draw_affine
from lstm_desktop.core.data.augment_ops import generator_for
from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.data.handwriting_augment import (HandwritingSettings, add_crossbars, add_flags, add_tails,
                                                   cut_gaps, open_loops, warp_grid)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    data = synthetic_bundle(n=400, seed=0)
    return data.train_x[:200], torch.arange(200) % 10  # every label, 7s, 1s and 9s included


def _stick(b: int) -> torch.Tensor:
    """(B, 1, 28, 28) upright bars, 2 px wide, rows 4-23."""
    img = torch.zeros(b, 1, 28, 28)
    img[:, 0, 4:24, 13:15] = 1.0
    return img


def _changed(out: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
    return (out - img).abs().flatten(1).amax(1) > 1e-4


def _share_close(measured: torch.Tensor, p: float, n: int) -> bool:
    """Within 4 standard errors of a binomial share p over n samples."""
    return abs(float(measured.float().mean()) - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-9


def test_same_seed_same_batches_other_seed_other_batches(batch):
    x, y = batch
    a = augment_batch(x, generator_for(CPU, 5), HANDWRITING, labels=y)
    b = augment_batch(x, generator_for(CPU, 5), HANDWRITING, labels=y)
    c = augment_batch(x, generator_for(CPU, 6), HANDWRITING, labels=y)
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_every_image_with_where_equals_only_the_chosen_images(batch, monkeypatch):
    x, y = batch
    compact = augment_batch(x, generator_for(CPU, 1), HANDWRITING, labels=y)
    monkeypatch.setattr(augment_ops, "MASKED_ON_CPU", True)
    masked = augment_batch(x, generator_for(CPU, 1), HANDWRITING, labels=y)
    assert torch.allclose(compact, masked, atol=1e-5)
    assert _changed(masked, x).float().mean() > 0.7


def test_affine_draws_span_the_configured_ranges():
    n, s = 20000, AugmentSettings()
    theta, active, amount = draw_affine(n, 28, generator_for(CPU, 0), s, CPU)
    assert _share_close(active, 0.9, n)
    t = theta[active]
    angle = torch.rad2deg(torch.atan2(t[:, 1, 0], t[:, 1, 1]))  # rows: [cos, -sin + shear], [sin, cos] / scale
    scale = 1 / torch.hypot(t[:, 1, 0], t[:, 1, 1])
    shear = t[:, 0, 1] + t[:, 1, 0]
    shift_px = t[:, :, 2] * 28 / 2
    assert angle.min() >= -12.0 - 1e-4 and angle.max() <= 12.0 + 1e-4
    assert angle.min() < -11.9 and angle.max() > 11.9 and abs(float(angle.mean())) < 0.2
    assert abs(float(angle.std()) - 24 / math.sqrt(12)) < 0.1  # uniform on [-12, 12] degrees
    assert scale.min() >= 0.85 - 1e-5 and scale.max() <= 1.12 + 1e-5 and scale.min() < 0.86 and scale.max() > 1.11
    assert shear.abs().max() <= 0.15 + 1e-5 and shear.abs().max() > 0.149
    assert shift_px.abs().max() <= 2.5 + 1e-4 and shift_px.abs().max() > 2.49
    assert amount[active].min() >= -0.7 and amount[active].max() <= 1.0 and amount[active].min() < -0.69
    identity = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]])
    assert torch.equal(theta[~active], identity.expand(int((~active).sum()), 2, 3))
    assert (amount[~active] == 0).all()


def test_share_of_images_augmented_is_the_probability():
    n = 3000
    x = synthetic_bundle(n=n, seed=1).train_x[:n]
    n = len(x)
    for settings, labels in ((PLAIN, None), (HANDWRITING, torch.arange(n) % 10)):
        out = augment_batch(x, generator_for(CPU, 3), settings, labels=labels)
        assert _share_close(_changed(out, x), 0.9, n)


@pytest.mark.parametrize("name", ["crossbar_7", "flag_1", "tail_9", "tail_7", "tail_other", "open_loop_9", "gap"])
def test_share_of_images_given_each_shape_is_its_probability(name):
    n, hw = 4000, HandwritingSettings()
    img, on = _stick(n), torch.ones(n, dtype=torch.bool)
    gen = generator_for(CPU, 11)
    if name == "crossbar_7":
        out, p = add_crossbars(img, torch.full((n,), 7), gen, hw, on), 0.25
    elif name == "flag_1":
        out, p = add_flags(img, torch.full((n,), 1), gen, hw, on), 0.45
    elif name.startswith("tail"):
        label, p = {"tail_9": (9, 0.4), "tail_7": (7, 0.15), "tail_other": (3, 0.0)}[name]
        out = add_tails(img, torch.full((n,), label), gen, hw, on)
    elif name == "open_loop_9":
        img[:, 0, 4:14, 8:10] = 1.0  # a loop's left side next to the stem
        out, p = open_loops(img, torch.full((n,), 9), gen, hw, on), 0.2
    else:
        out, p = cut_gaps(img, gen, hw, on), 0.3
    assert _share_close(_changed(out, img), p, n)


def test_share_of_images_bent_is_the_bend_probability():
    n = 4000
    eye = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(n, 2, 3)
    only_bend = HandwritingSettings(elastic_px=0.0)
    grid = warp_grid(eye, (28, 28), generator_for(CPU, 2), only_bend, torch.ones(n, dtype=torch.bool))
    plain = warp_grid(eye, (28, 28), None, only_bend, torch.zeros(n, dtype=torch.bool))
    bent = (grid - plain).abs().flatten(1).amax(1) > 1e-6
    assert _share_close(bent, 0.35, n)


def test_epoch_augmenter_serves_slices_of_one_call_per_chunk(batch):
    x, y = batch
    aug = EpochAugmenter(HANDWRITING, generator_for(CPU, 4), CPU, 16, per_call=3)
    got = [aug.batch(0, b, x, y, 16) for b in range(6)]
    again = aug.batch(0, 5, x, y, 16)
    ref = generator_for(CPU, 4)
    first, second = (augment_batch(x[lo:lo + 48], ref, HANDWRITING, labels=y[lo:lo + 48]) for lo in (0, 48))
    assert torch.equal(torch.cat(got[:3]), first) and torch.equal(torch.cat(got[3:]), second)
    assert torch.equal(again, got[5])
    assert not torch.allclose(aug.batch(1, 0, x, y, 16), got[0])  # a new epoch draws anew
    assert EpochAugmenter(PLAIN, generator_for(CPU, 0), CPU, 64).per_call == 1


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@cuda
def test_an_augmented_batch_never_waits_for_the_gpu(batch):
    dev = torch.device("cuda")
    x, y = batch[0].to(dev), batch[1].to(dev)
    gen = generator_for(dev, 0)
    assert gen.device.type == "cuda"
    augment_batch(x, gen, HANDWRITING, labels=y)  # torch's own lazy start-up
    torch.cuda.synchronize()
    for cached in (augment_ops.pixel_centres, handwriting_augment._base_points, handwriting_augment._smooth_basis):
        cached.cache_clear()  # building them on the device must not wait either
    torch.cuda.set_sync_debug_mode("error")
    try:
        out = augment_batch(x, gen, HANDWRITING, labels=y)
        out_plain = augment_batch(x, gen, PLAIN)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert out.device.type == "cuda" and out_plain.shape == x.shape
    assert _changed(out, x).float().mean().item() > 0.7


@cuda
def test_the_gpu_draws_the_same_images_as_the_cpu_from_the_same_numbers(batch):
    x, y = batch
    cpu = augment_batch(x, torch.Generator().manual_seed(9), HANDWRITING, labels=y)
    gpu = augment_batch(x.cuda(), torch.Generator().manual_seed(9), HANDWRITING, labels=y.cuda())
    same = (gpu.cpu() - cpu).abs().flatten(1).amax(1) < 1e-3
    assert same.float().mean() >= 0.98  # rounding may move a rare gap by a pixel (sums differ by ~1e-6)
    a = augment_batch(x.cuda(), generator_for("cuda", 9), HANDWRITING, labels=y.cuda())
    b = augment_batch(x.cuda(), generator_for("cuda", 9), HANDWRITING, labels=y.cuda())
    assert torch.equal(a, b)


def test_gap_centres_land_on_ink_in_proportion_to_it():
    from lstm_desktop.core.data.handwriting_augment import ink_pixels

    n = 4000
    sel = torch.zeros(n, 28, 28)
    sel[:, 5:10, 5:10] = 0.25  # 25 pixels of faint ink
    sel[:, 18:23, 18:23] = 0.75  # 25 pixels of dark ink: three times as likely
    idx = ink_pixels(sel, torch.rand(n, 2, generator=torch.Generator().manual_seed(0)))
    rows, cols = idx // 28, idx % 28
    dark = (rows >= 18) & (rows < 23) & (cols >= 18) & (cols < 23)
    faint = (rows >= 5) & (rows < 10) & (cols >= 5) & (cols < 10)
    assert (dark | faint).float().mean() > 0.99
    assert _share_close(dark, 0.75, 2 * n)
