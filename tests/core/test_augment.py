"""augment_batch: same shape, same value range, really different images, seeded, identity when off."""

from __future__ import annotations

import pytest
import torch

from lstm_desktop.core.data.augment import AugmentSettings, augment_batch
from lstm_desktop.core.data.image_sets import synthetic_bundle


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


# -- handwriting shapes (core.handwriting_augment) ---------------------------------------------

from lstm_desktop.core.data.augment import HANDWRITING, PLAIN  # noqa: E402
from lstm_desktop.core.data.handwriting_augment import (HandwritingSettings, add_crossbars, cut_gaps,  # noqa: E402
                                                   warp_grid)


def _stick(b: int = 8) -> torch.Tensor:
    """(B, 1, 28, 28) images of a vertical bar, 2 px wide, rows 4-23."""
    img = torch.zeros(b, 1, 28, 28)
    img[:, 0, 4:24, 13:15] = 1.0
    return img


def test_plain_is_the_default_and_handwriting_changes_more(batch):
    assert PLAIN == AugmentSettings() and PLAIN.handwriting is None
    labels = torch.arange(len(batch)) % 10
    plain = augment_batch(batch, torch.Generator().manual_seed(0), PLAIN, labels=labels)
    hand = augment_batch(batch, torch.Generator().manual_seed(0), HANDWRITING, labels=labels)
    assert hand.shape == batch.shape and hand.min() >= -1.0 and hand.max() <= 1.0
    assert not torch.allclose(plain, hand)
    again = augment_batch(batch, torch.Generator().manual_seed(0), HANDWRITING, labels=labels)
    assert torch.equal(hand, again)


def test_warp_grid_is_the_affine_grid_when_inactive_and_bends_the_bottom_when_active():
    import torch.nn.functional as F

    theta = torch.randn(6, 2, 3)
    off = warp_grid(theta, (28, 28), torch.Generator().manual_seed(0), HandwritingSettings(), torch.zeros(6, dtype=torch.bool))
    assert torch.allclose(off, F.affine_grid(theta, [6, 1, 28, 28], align_corners=False), atol=1e-5)
    eye = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(64, 2, 3)
    only_bend = HandwritingSettings(elastic_px=0.0, bend_probability=1.0, bend_px=4.0)
    grid = warp_grid(eye, (28, 28), torch.Generator().manual_seed(1), only_bend, torch.ones(64, dtype=torch.bool))
    img = F.grid_sample(_stick(64), grid, align_corners=False)
    cols = torch.arange(28, dtype=torch.float32)
    def centre(rows):  # ink's mean column over these rows
        part = img[:, 0, rows]
        return (part.sum(1) * cols).sum(1) / part.sum((1, 2)).clamp_min(1e-6)
    moved_bottom = (centre(slice(20, 24)) - 13.5).abs()  # the stick's columns are 13 and 14
    moved_top = (centre(slice(4, 8)) - 13.5).abs()
    # a bend moves one end (mostly the bottom) sideways and leaves the other where it was
    assert moved_bottom.max() > 1.0
    assert ((moved_bottom > 0.5) ^ (moved_top > 0.5)).float().mean() > 0.5


def test_gaps_only_remove_ink_and_cut_the_stroke():
    img = _stick(16)
    out = cut_gaps(img, torch.Generator().manual_seed(0), HandwritingSettings(gap_probability=1.0),
                   torch.ones(16, dtype=torch.bool))
    assert (out <= img + 1e-6).all()
    lost = (img - out).sum((1, 2, 3))
    assert (lost > 1.0).all() and (lost < 0.35 * img.sum((1, 2, 3))).all()
    thinnest_row = out[:, 0, 4:24].sum(2).amin(1)  # a full row of the stick holds 2.0
    assert (thinnest_row < 0.5).float().mean() > 0.8  # most gaps cut the stroke through
    none = cut_gaps(img, torch.Generator().manual_seed(0), HandwritingSettings(gap_probability=1.0),
                    torch.zeros(16, dtype=torch.bool))
    assert torch.equal(none, img)


def test_crossbars_go_on_sevens_only_across_the_middle_of_the_stem():
    img = _stick(10)
    labels = torch.tensor([7, 1, 7, 9, 7, 4, 7, 7, 0, 7])
    out = add_crossbars(img, labels, torch.Generator().manual_seed(0), HandwritingSettings(crossbar_probability=1.0),
                        torch.ones(10, dtype=torch.bool))
    added = (out - img).clamp_min(0)[:, 0]
    sevens = labels == 7
    assert (added[~sevens].sum((1, 2)) == 0).all()
    assert (added[sevens].sum((1, 2)) > 3).all()
    rows = torch.arange(28, dtype=torch.float32)
    row_of_bar = (added[sevens].sum(2) * rows).sum(1) / added[sevens].sum((1, 2))
    assert ((row_of_bar > 10) & (row_of_bar < 18)).all()  # the stem spans rows 4-23
    assert torch.equal(add_crossbars(img, None, None, HandwritingSettings(), torch.ones(10, dtype=torch.bool)), img)


def test_flags_go_on_upright_ones_only_down_to_the_left_of_the_top():
    from lstm_desktop.core.data.handwriting_augment import add_flags

    img = _stick(6)
    leaning = torch.zeros(1, 1, 28, 28)
    for r in range(4, 24):  # a 1 leaning right: the top is 10 px right of the foot
        leaning[0, 0, r, 8 + (23 - r) // 2:10 + (23 - r) // 2] = 1.0
    img = torch.cat([img, leaning])
    labels = torch.tensor([1, 1, 1, 7, 1, 1, 1])
    out = add_flags(img, labels, torch.Generator().manual_seed(0), HandwritingSettings(flag_probability=1.0),
                    torch.ones(7, dtype=torch.bool))
    added = (out - img).clamp_min(0)[:, 0]
    assert added[3].sum() == 0 and added[6].sum() == 0  # not a 1; a leaning 1
    for k in (0, 1, 2, 4, 5):
        assert added[k].sum() > 2
        ys, xs = added[k].nonzero(as_tuple=True)
        assert xs.float().mean() < 13 and ys.float().mean() > 4 and ys.max() < 14  # left of, below the top
    off = add_flags(img, labels, None, HandwritingSettings(flag_probability=0.0), torch.ones(7, dtype=torch.bool))
    assert torch.equal(off, img)


def test_tails_curl_the_foot_of_nines_back_to_the_left_and_up():
    from lstm_desktop.core.data.handwriting_augment import add_tails

    img = _stick(8)
    img[:, 0, 4:12, 7:15] = torch.maximum(img[:, 0, 4:12, 7:15], torch.ones(8, 8))  # a block "loop" at the top left
    labels = torch.tensor([9, 9, 3, 9, 5, 9, 9, 1])
    out = add_tails(img, labels, torch.Generator().manual_seed(0),
                    HandwritingSettings(tail_probability=1.0, tail_probability_7=0.0), torch.ones(8, dtype=torch.bool))
    added = (out - img).clamp_min(0)[:, 0]
    nines = labels == 9
    assert (added[~nines].sum((1, 2)) == 0).all()
    for k in nines.nonzero().flatten().tolist():
        ys, xs = added[k].nonzero(as_tuple=True)
        assert added[k].sum() > 3
        assert xs.min() < 11 and xs.float().mean() < 13  # goes left of the stem (columns 13-14)
        assert ys.min() >= 14 and ys.max() <= 26  # in the lower part, at most ~2 px below the foot (row 23)
        left_end = ys[xs == xs.min()].float().mean()
        assert left_end < 23.5  # it rises again at its left end
    off = add_tails(img, labels, None, HandwritingSettings(tail_probability=0.0, tail_probability_7=0.0),
                    torch.ones(8, dtype=torch.bool))
    assert torch.equal(off, img)
    inactive = add_tails(img, labels, None, HandwritingSettings(tail_probability=1.0), torch.zeros(8, dtype=torch.bool))
    assert torch.equal(inactive, img)


def test_open_loops_erase_the_lower_left_of_the_loop_of_nines_only():
    from lstm_desktop.core.data.handwriting_augment import open_loops

    img = torch.zeros(6, 1, 28, 28)
    img[:, 0, 4:14, 8:10] = 1.0  # the loop's left side, rows 4-13
    img[:, 0, 4:24, 16:18] = 1.0  # the stem on the right, rows 4-23
    labels = torch.tensor([9, 9, 4, 9, 3, 9])
    out = open_loops(img, labels, torch.Generator().manual_seed(0), HandwritingSettings(open_loop_probability=1.0),
                     torch.ones(6, dtype=torch.bool))
    lost = (img - out).clamp_min(0)[:, 0]
    nines = labels == 9
    assert (lost[~nines].sum((1, 2)) == 0).all() and (out <= img + 1e-6).all()
    for k in nines.nonzero().flatten().tolist():
        ys, xs = lost[k].nonzero(as_tuple=True)
        assert lost[k].sum() > 2 and xs.max() < 12 and 8 <= ys.float().mean() <= 14  # the left side, 30-50% down
        assert lost[k, :, 16:18].sum() == 0  # the stem is untouched
    off = open_loops(img, labels, None, HandwritingSettings(open_loop_probability=0.0), torch.ones(6, dtype=torch.bool))
    assert torch.equal(off, img)
