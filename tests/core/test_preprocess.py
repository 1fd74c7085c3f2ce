"""Preprocessing by MNIST's recipe, and the stroke renderer the pad and the stroke evaluation share."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_desktop.core.drawing.preprocess import (BOX, SIZE, center_of_mass, preprocess, textbook_preprocess,
                                          to_model_input)
from lstm_desktop.core.drawing.strokes import CANVAS_SIZE, Stroke, StrokeBuilder, StrokeRaster, render_strokes
from lstm_desktop.core.data.synthetic_digits import TEMPLATES, Variation, generate_digits, synthesize


def ring(h: int = 200, w: int = 200, cy: float = 100, cx: float = 100, ry: float = 60, rx: float = 35,
         thickness: float = 10.0) -> np.ndarray:
    """An anti-aliased elliptical ring (a "0"), ink = 1 on 0."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    r = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    d = np.abs(r - 1.0) * min(rx, ry)
    return np.clip(thickness / 2 + 0.5 - d, 0, 1).astype(np.float32)


def seven(width: float = 14.0, size: int = CANVAS_SIZE, scale: float = 1.0, offset=(0.0, 0.0)) -> np.ndarray:
    pts = np.array([[60, 50], [200, 50], [110, 240]], dtype=np.float64) * scale + np.asarray(offset)
    return render_strokes([Stroke(pts, width)], size)


def ink_extent(img: np.ndarray, threshold: float = 0.0) -> tuple[int, int]:
    rows = np.flatnonzero((img > threshold).any(axis=1))
    cols = np.flatnonzero((img > threshold).any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def assert_mnist_like(pre, tall: bool = True) -> None:
    img = pre.image
    assert img.shape == (SIZE, SIZE) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() <= 1.0 and img.max() == pytest.approx(1.0)
    cy, cx = center_of_mass(img)
    assert abs(cy - 14.0) <= 0.5 and abs(cx - 14.0) <= 0.5, (cy, cx)
    h, w = ink_extent(img)
    assert (h if tall else w) == BOX, (h, w)
    assert max(h, w) <= BOX + 1  # the short side may straddle one extra pixel


# -- empty input -----------------------------------------------------------------------------

@pytest.mark.parametrize("image", [
    np.zeros((280, 280), np.float32),
    np.full((50, 60), 255, np.uint8),
    np.full((50, 60), 128, np.uint8),
    np.zeros((0, 10), np.uint8),
    np.zeros((40, 40, 4), np.uint8),  # fully transparent
])
def test_empty_or_uniform_input_is_none(image):
    assert preprocess(image) is None


def test_empty_ink_canvas_is_none():
    assert preprocess(np.zeros((280, 280), np.float32), polarity="ink") is None
    assert preprocess(np.full((280, 280), 0.01, np.float32), polarity="ink") is None


def test_faint_noise_only_is_empty():
    rng = np.random.default_rng(0)
    noise = (200 + rng.normal(0, 2, (120, 120))).clip(0, 255).astype(np.uint8)
    assert preprocess(noise) is None


# -- MNIST's geometry ------------------------------------------------------------------------

def test_off_centre_digit_is_cropped_scaled_and_centred():
    img = ring(300, 300, cy=70, cx=250, ry=50, rx=30)
    pre = preprocess(img, polarity="ink")
    assert_mnist_like(pre)
    x0, y0, x1, y1 = pre.bbox
    assert abs((x0 + x1) / 2 - 250) < 2 and abs((y0 + y1) / 2 - 70) < 2
    assert pre.scale == pytest.approx(BOX / (y1 - y0))


def test_centre_of_mass_not_box_centre_is_centred():
    """A 7 has its mass high up: MNIST centres the mass, not the box."""
    pre = preprocess(seven(), polarity="ink")
    assert_mnist_like(pre)
    rows = np.flatnonzero(pre.image.any(axis=1))
    box_centre = (rows[0] + rows[-1]) / 2
    assert box_centre > 14.0  # the box sits lower so that the mass is at the centre


def test_wide_digit_scales_its_width_to_20():
    img = ring(200, 300, cy=100, cx=150, ry=30, rx=110)
    pre = preprocess(img, polarity="ink")
    assert_mnist_like(pre, tall=False)


def test_same_shape_at_any_position_and_size_gives_the_same_input():
    a = preprocess(seven(scale=1.0), polarity="ink").image
    b = preprocess(seven(width=7.0, scale=0.5, offset=(130, 20)), polarity="ink").image
    assert np.abs(a - b).mean() < 0.02


def test_tiny_mark_is_scaled_up():
    img = np.zeros((100, 100), np.uint8)
    img[40:43, 60:62] = 255
    pre = preprocess(img)
    assert pre is not None
    assert pre.extent == 3
    assert ink_extent(pre.image)[0] == BOX
    cy, cx = center_of_mass(pre.image)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_single_pixel():
    img = np.zeros((28, 28), np.float32)
    img[3, 5] = 1.0
    pre = preprocess(img, polarity="ink")
    assert pre is not None and pre.image.max() == 1.0
    cy, cx = center_of_mass(pre.image)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_huge_image_is_resampled_from_a_bounded_crop(monkeypatch):
    from lstm_desktop.core.drawing import preprocess as module

    h, w = 6000, 4000
    img = np.full((h, w), 255, np.uint8)
    yy, xx = np.ogrid[0:h, 0:w]
    r = np.sqrt(((yy - 3000) / 2000.0) ** 2 + ((xx - 2000) / 1200.0) ** 2)
    img[np.abs(r - 1.0) < 0.12] = 0  # a thick dark "0" on white, 24 megapixels
    resampled: list[tuple[int, ...]] = []
    area_resample = module._area_resample
    monkeypatch.setattr(module, "_area_resample", lambda a, *args, **kw: resampled.append(a.shape)
                        or area_resample(a, *args, **kw))
    pre = preprocess(img)
    assert pre is not None and pre.inverted
    assert_mnist_like(pre)
    # the costly resampling sees a block-averaged crop, never the megapixels (bounded time and memory)
    assert resampled and max(max(shape) for shape in resampled) <= module.WORKING_SIDE


def test_thick_and_thin_strokes_keep_full_ink_and_geometry():
    thin = preprocess(seven(width=3.0), polarity="ink")
    thick = preprocess(seven(width=44.0), polarity="ink")
    for pre in (thin, thick):
        assert_mnist_like(pre)
    assert thick.mean_ink > 2 * thin.mean_ink
    assert thin.image.max() == pytest.approx(1.0)  # thin lines are not averaged into grey


def test_grey_levels_are_kept():
    pre = preprocess(ring(), polarity="ink")
    grey = ((pre.image > 0.05) & (pre.image < 0.95)).sum()
    assert grey > 20  # anti-aliased edges, not a thresholded mask


# -- polarity, colour, transparency, noise ---------------------------------------------------

def test_dark_on_light_equals_light_on_dark():
    ink = ring()
    light_on_dark = (ink * 255).round().astype(np.uint8)
    dark_on_light = 255 - light_on_dark
    a = preprocess(light_on_dark)
    b = preprocess(dark_on_light)
    assert not a.inverted and b.inverted
    np.testing.assert_allclose(a.image, b.image, atol=1e-5)
    forced = preprocess(dark_on_light, polarity="dark-on-light")
    np.testing.assert_allclose(forced.image, b.image, atol=1e-5)


def test_digit_touching_the_border_keeps_its_polarity():
    img = np.full((28, 28), 255, np.uint8)
    img[:, 12:16] = 0  # a dark "1" from the top edge to the bottom edge
    pre = preprocess(img)
    assert pre.inverted
    assert ink_extent(pre.image, 0.5)[0] == BOX


def test_rgb_and_rgba_transparent_background():
    ink = (ring() * 255).round().astype(np.uint8)
    grey = preprocess(255 - ink).image
    rgb = np.stack([255 - ink] * 3, axis=-1)
    np.testing.assert_allclose(preprocess(rgb).image, grey, atol=2e-3)
    # black ink on a transparent background (the RGB under transparency is black too)
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = ink
    np.testing.assert_allclose(preprocess(rgba).image, grey, atol=2e-3)
    # white ink on a transparent background
    rgba_white = rgba.copy()
    rgba_white[..., :3] = 255
    np.testing.assert_allclose(preprocess(rgba_white).image, grey, atol=2e-3)


def test_grey_paper_and_noise_do_not_grow_the_box():
    rng = np.random.default_rng(1)
    ink = ring()
    clean = preprocess(ink, polarity="ink")
    photo = 205 - ink * 150 + rng.normal(0, 6, ink.shape)  # grey paper, grey pencil, sensor noise
    pre = preprocess(photo.clip(0, 255).astype(np.uint8))
    assert pre is not None and pre.inverted
    assert abs(pre.extent - clean.extent) <= 2
    # the whole-pixel centring may round the other way: compare up to a one-pixel shift
    corr = max(np.corrcoef(np.roll(pre.image, (dy, dx), axis=(0, 1)).ravel(), clean.image.ravel())[0, 1]
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    assert corr > 0.95


def test_uint16_and_bool_inputs():
    ink = ring() > 0.5
    a = preprocess(ink)
    b = preprocess((ink * 65535).astype(np.uint16))
    assert a is not None and b is not None
    np.testing.assert_allclose(a.image, b.image, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError):
        preprocess(np.zeros((5, 5, 7)))
    with pytest.raises(ValueError):
        preprocess(np.zeros((5, 5)), polarity="sideways")  # type: ignore[arg-type]


# -- normalisation and the result --------------------------------------------------------------

def test_model_input_is_the_training_normalisation_and_read_only():
    pre = preprocess(ring(), polarity="ink")
    np.testing.assert_allclose(pre.model_input, (pre.image - 0.5) / 0.5, atol=1e-6)
    assert not pre.image.flags.writeable and not pre.model_input.flags.writeable
    other = preprocess(ring(), polarity="ink", mean=0.1307, std=0.3081)
    np.testing.assert_allclose(other.model_input, (other.image - 0.1307) / 0.3081, atol=1e-5)
    np.testing.assert_allclose(to_model_input(pre.image), pre.model_input)


def test_textbook_baseline_is_a_plain_resize():
    img = seven()
    x = textbook_preprocess(img, polarity="ink")
    assert x.shape == (SIZE, SIZE)
    plain = img.reshape(28, 10, 28, 10).mean(axis=(1, 3))
    np.testing.assert_allclose(x, (plain - 0.5) / 0.5, atol=1e-5)


def test_overinked_scribble_is_flagged():
    blob = np.zeros((100, 100), np.float32)
    blob[10:90, 20:80] = 1.0
    assert preprocess(blob, polarity="ink").overinked
    assert not preprocess(ring(), polarity="ink").overinked


def test_mnist_images_pass_through_almost_unchanged(mnist_dir):
    raw = (mnist_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte").read_bytes()
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:300]
    out = np.stack([preprocess(a).image for a in images])
    assert np.abs(out - images / 255.0).mean() < 0.02


# -- the stroke renderer -----------------------------------------------------------------------

def test_incremental_rendering_equals_full_rendering():
    digits = generate_digits(20, seed=5)
    for d in digits:
        full = render_strokes(d.strokes)
        inc = StrokeRaster()
        for s in d.strokes:
            pts = s.points
            inc.add_polyline(pts[:1], s.width)
            for a, b in zip(pts[:-1], pts[1:]):
                inc.add_polyline([a, b], s.width)
        np.testing.assert_array_equal(inc.image, full)


def test_capsule_geometry():
    img = render_strokes([Stroke([(50, 100), (150, 100)], 20.0)], 200)
    assert img[100, 100] == 1.0 and img[100, 30] == 0.0
    col = img[:, 100]
    assert col.sum() == pytest.approx(20.0, abs=0.01)  # the width, exactly, thanks to the linear ramp
    dot = render_strokes([Stroke([(50, 50)], 10.0)], 100)
    assert dot.sum() == pytest.approx(np.pi * 25, rel=0.03)


def test_stroke_builder_drops_close_points_but_keeps_pen_up():
    b = StrokeBuilder(10.0, min_distance=1.0)
    assert b.add(0, 0) and not b.add(0.5, 0) and b.add(2, 0)
    s = b.finish(2.4, 0)
    assert s.points.tolist() == [[0, 0], [2, 0], [2.4, 0]]
    assert StrokeBuilder(5).finish().points.shape == (0, 2)  # no points: an empty (0, 2) array
    single = StrokeBuilder(5)
    single.add(3, 3)
    assert len(single.finish(3, 3)) == 1


def test_synthetic_digits_are_deterministic_balanced_and_varied():
    a = generate_digits(200, seed=3)
    b = generate_digits(200, seed=3)
    assert [d.label for d in a] == [d.label for d in b]
    assert all(np.array_equal(x.strokes[0].points, y.strokes[0].points) for x, y in zip(a, b))
    assert np.bincount([d.label for d in a], minlength=10).tolist() == [20] * 10
    styles = {(d.label, d.style) for d in generate_digits(1000, seed=0)}
    assert styles == {(k, s) for k in TEMPLATES for s in TEMPLATES[k]}
    assert {"thin", "thick", "small", "large", "slanted"} <= {t for d in a for t in d.tags}
    for d in a[:30]:
        img = render_strokes(d.strokes)
        assert preprocess(img, polarity="ink") is not None


def test_every_template_renders_inside_the_canvas():
    rng = np.random.default_rng(0)
    v = Variation(pen_width=18, height=200, aspect=1.0, shear=0.0, rotation=0.0, wobble=0.0, jitter=0.0,
                  step=2.0, misplace=0.0)
    for label, styles in TEMPLATES.items():
        for style in styles:
            d = synthesize(label, style, v, rng)
            img = render_strokes(d.strokes)
            assert img[0].max() == 0 and img[-1].max() == 0 and img[:, 0].max() == 0 and img[:, -1].max() == 0
            assert_mnist_like(preprocess(img, polarity="ink"), tall=True)


def test_failure_shape_templates_render_inside_the_canvas_and_sets_are_chosen():
    from lstm_desktop.core.data.digit_templates import CLASSIC, FAILURE_SHAPES

    rng = np.random.default_rng(0)
    v = Variation(pen_width=18, height=200, aspect=1.0, shear=0.0, rotation=0.0, wobble=0.0, jitter=0.0,
                  step=2.0, misplace=0.0)
    for label, styles in FAILURE_SHAPES.items():
        for style in styles:
            img = render_strokes(synthesize(label, style, v, rng).strokes)
            assert img[0].max() == 0 and img[-1].max() == 0 and img[:, 0].max() == 0 and img[:, -1].max() == 0
            pre = preprocess(img, polarity="ink")
            assert pre is not None and pre.image.max() == pytest.approx(1.0)
    assert {1, 4, 7, 9} <= set(FAILURE_SHAPES)
    failure = generate_digits(400, seed=1, templates="failure")
    for d in failure:
        assert d.style in (FAILURE_SHAPES.get(d.label) or CLASSIC[d.label])
    assert {(d.label, d.style) for d in failure if d.label == 9} == {(9, s) for s in FAILURE_SHAPES[9]}
    with pytest.raises(ValueError, match="templates"):
        generate_digits(10, templates="nope")


def test_a_synthetic_writer_keeps_one_style_per_digit_and_is_reproducible():
    from lstm_desktop.core.data.synthetic_digits import make_writer

    w = make_writer(5)
    assert make_writer(5) == w and make_writer(6) != w
    drawn = w.digits(3, seed=1)
    assert [d.label for d in drawn] == [k for k in range(10) for _ in range(3)]
    assert all(d.style == w.styles[d.label] for d in drawn)
    again = w.digits(3, seed=1)
    assert all(np.array_equal(a.strokes[0].points, b.strokes[0].points) for a, b in zip(drawn, again))
    other = w.digits(3, seed=2)
    assert not np.array_equal(drawn[0].strokes[0].points, other[0].strokes[0].points)
    widths = {d.strokes[0].width for d in drawn}
    assert len(widths) == 1  # one pen


def test_stroke_width_estimate():
    from lstm_desktop.core.drawing.preprocess import estimate_stroke_width

    for width in (24.0, 40.0, 60.0):  # 2 to 4.3 model pixels (thinner lines are brought to full ink)
        pre = preprocess(render_strokes([Stroke([(140, 30), (140, 250)], width)]), polarity="ink")
        expected = width * pre.scale  # the pen width in model pixels
        assert pre.stroke_width == pytest.approx(expected, rel=0.2)
    assert estimate_stroke_width(np.zeros((28, 28))) == 0.0
