"""Label-preserving distortions that give MNIST the shapes real pen writers produce.

Scored on real pen digits, the shipped model misread 9s whose stem curves back to the left, 4s
whose strokes do not meet, 7s with a crossbar or a curved stem. MNIST has few of these; the
distortions here make them from MNIST's own strokes, on whole batches of [0, 1] images:

- `warp_grid`: one sampling grid per image combining the affine part (rotation, scale, shear,
  shift) with an elastic field (smooth random displacement, a few pixels) and a bend (the lower
  or upper part of the digit pushed sideways along a parabola: curved stems, hooks);
- `cut_gaps`: small discs of ink erased where there is ink (strokes that do not meet, open loops);
- `add_crossbars`: a short horizontal bar across the middle of the stem of 7s (the European 7);
- `add_flags`: a long flag going down-left from the top of 1s (the continental 1);
- `open_loops`: the loop of 9s left open at its lower left (the pen never came back round);
- `add_tails`: the foot of 9s (and some 7s) curving back to the left and rising a little (the
  9 read as 3 or 5 was real writers' largest single error; MNIST's 9s nearly all end straight).

Every random number comes from the generator passed in, drawn on the images' device (give it a
generator on that device: nothing is copied, so the host never waits), so training stays
reproducible on each device. On a GPU every image is drawn on and the chosen ones are kept with
torch.where: no data-dependent shapes, no host synchronisation. On the CPU only the chosen images
are drawn on (listing them costs nothing there, and most images are not chosen); both ways give
the same images (tests/core/test_augment_device.py).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lstm_desktop.core.data.augment_ops import (apply_chosen, centre_x, disc_keep, ink_columns, ink_rows,
                                           normal, pixel_centres, polyline_ink, row_of, stroke_radius, uniform)


@dataclass(frozen=True)
class HandwritingSettings:
    elastic_px: float = 1.6  # std of the elastic displacement, model pixels
    elastic_grid: int = 4  # control points per side of the elastic field (coarse = smooth)
    bend_px: float = 4.0  # largest sideways shift of the bottom (or top) of the digit, pixels
    bend_probability: float = 0.35
    gap_probability: float = 0.3  # share of images that get 1-2 erased gaps
    gap_radius: tuple[float, float] = (0.9, 1.7)  # pixels
    crossbar_probability: float = 0.25  # share of 7s given a crossbar
    crossbar_label: int = 7
    flag_probability: float = 0.45  # share of upright 1s given a long flag (read as 7 without this)
    flag_length: tuple[float, float] = (0.25, 0.55)  # of the digit's height
    flag_label: int = 1
    tail_probability: float = 0.4  # share of 9s given a foot that curves back left
    tail_probability_7: float = 0.15  # a 7 whose stem hooks back left (read as 2 without it)
    open_loop_probability: float = 0.2  # share of 9s whose loop is left open at its lower left


_DIGIT_END = 20 / 28  # the digit's edge in grid units (its 20 px box centred in 28)
SECOND_GAP = 0.4  # share of gapped images that get a second gap


@functools.lru_cache(maxsize=16)
def _base_points(h: int, w: int, device: torch.device) -> torch.Tensor:
    """(H*W, 3) pixel centres in grid units (align_corners=False) with a 1 column, for affine maps."""
    ys, xs = pixel_centres(h, w, device)
    gy, gx = torch.meshgrid(ys * 2 / h - 1, xs * 2 / w - 1, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten(), torch.ones(h * w, device=device)], dim=1)


@functools.lru_cache(maxsize=16)
def _smooth_basis(k: int, h: int, w: int, device: torch.device) -> torch.Tensor:
    """(k*k, H*W): the bicubic upsampling of each of k x k control points, so that an elastic field
    is one small matrix product instead of an interpolation call."""
    eye = torch.eye(k * k, device=device).view(k * k, 1, k, k)
    return F.interpolate(eye, size=(h, w), mode="bicubic", align_corners=True).view(k * k, h * w)


def warp_grid(theta: torch.Tensor, size: tuple[int, int], generator: torch.Generator | None,
              settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """(B, H, W, 2) grid for grid_sample: affine theta + elastic + bend where `active` (B,) is set.
    Equal to F.affine_grid(theta, align_corners=False) when nothing else applies."""
    b = theta.shape[0]
    h, w = size
    dev, dtype = theta.device, theta.dtype
    base = _base_points(h, w, dev).to(dtype)
    grid = torch.matmul(base, theta.transpose(1, 2))  # (B, H*W, 2)
    # elastic: coarse normal noise, smoothly upsampled; in grid units (2 / side per pixel)
    k = settings.elastic_grid
    noise = normal(generator, (b, 2, k * k), dev).to(dtype) * settings.elastic_px
    field = torch.matmul(noise, _smooth_basis(k, h, w, dev).to(dtype))  # (B, 2, H*W)
    # bend: dx = c * (relu(s * y - y0) / (end - y0))^2, y in [-1, 1]; s = +1 bends the bottom, -1 the top
    u = uniform(generator, (b, 4), dev).to(dtype)
    y = base[:, 1].view(1, h * w)
    start = u[:, 0:1] * 0.4
    side = torch.where(u[:, 1:2] < 0.75, 1.0, -1.0)
    amount = (u[:, 2:3] * 2 - 1) * (settings.bend_px * 2.0 / w)
    use_bend = (u[:, 3:4] < settings.bend_probability).to(dtype)
    # MNIST digits fill the middle 20 of 28 rows: |y| <= 0.71, so the digit's end moves by `amount`
    reach = (_DIGIT_END - start).clamp_min(1e-3)
    bend = amount * use_bend * (torch.relu(side * y - start) / reach) ** 2
    # sampling from x - dx moves the ink by +dx
    field = torch.stack([field[:, 0] * (2.0 / w) - bend, field[:, 1] * (2.0 / h)], dim=2)  # (B, H*W, 2)
    grid = grid + field * active.to(dtype).view(b, 1, 1)
    return grid.view(b, h, w, 2)


def cut_gaps(img: torch.Tensor, generator: torch.Generator | None, settings: HandwritingSettings,
             active: torch.Tensor) -> torch.Tensor:
    """Erase 1-2 ink discs per selected image of (B, 1, H, W) [0, 1] images."""
    b, _, h, w = img.shape
    u = uniform(generator, (b, 6), img.device)
    chosen = (u[:, 0] < settings.gap_probability) & active
    lo, hi = settings.gap_radius
    radius = lo + u[:, 1:3] * (hi - lo)
    radius = torch.cat([radius[:, :1], torch.where(u[:, 3:4] < SECOND_GAP, radius[:, 1:], 0.0)], dim=1)
    return apply_chosen(img, chosen, _gaps, u[:, 4:6], radius)


def ink_pixels(sel: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """(k, n) flat pixel indices of (k, H, W) images drawn in proportion to their ink (plus a
    little everywhere), from where (k, n) uniform in [0, 1)."""
    cum = (sel.flatten(1) + 1e-6).cumsum(dim=1)  # (k, H*W)
    return torch.searchsorted(cum, where * cum[:, -1:], right=True).clamp_max(cum.shape[1] - 1)


def _gaps(sel: torch.Tensor, where: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Erase discs of `radius` (k, 2) at pixels drawn in proportion to their ink: where (k, 2) in
    [0, 1) through the inverse of the ink's cumulative sum (torch.multinomial's draw, without
    its checks that read the weights back to the host)."""
    _, h, w = sel.shape
    centres = ink_pixels(sel, where)
    cy = torch.div(centres, w, rounding_mode="floor").float() + 0.5
    cx = (centres % w).float() + 0.5
    return sel * disc_keep(cy, cx, radius, h, w)


def add_crossbars(img: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None,
                  settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """Draw a short, slightly tilted bar across the stem of some 7s, at the stem's own width."""
    if labels is None:
        return img
    u = uniform(generator, (img.shape[0], 5), img.device)
    chosen = (labels == settings.crossbar_label) & active & (u[:, 0] < settings.crossbar_probability)
    return apply_chosen(img, chosen, _crossbar, u[:, 1:])


def _crossbar(sel: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    k, h, w = sel.shape
    ys, xs = pixel_centres(h, w, sel.device)
    top, bottom = ink_rows(sel)
    # the bar's row: 45-62% of the ink's height; its centre: the ink's centre on that row
    row = (top + (0.45 + u[:, 0] * 0.17) * (bottom - top)).clamp(0, h - 1)
    centre = centre_x(row_of(sel, row.round().long()), w / 2)
    half = 2.5 + u[:, 1] * 2.5
    shift = (u[:, 2] * 2 - 1) * 1.0
    tilt = (u[:, 3] * 2 - 1) * 0.12
    xs, ys = xs.view(1, 1, w), ys.view(1, h, 1)
    cx = (centre + shift).view(k, 1, 1)
    cy = (row + 0.5).view(k, 1, 1) + tilt.view(k, 1, 1) * (xs - cx)
    along = torch.clamp(half.view(k, 1, 1) + 0.5 - (xs - cx).abs(), 0.0, 1.0)
    across = torch.clamp(stroke_radius(sel).view(k, 1, 1) + 0.5 - (ys - cy).abs(), 0.0, 1.0)
    return torch.maximum(sel, along * across)


def add_flags(img: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None,
              settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """Draw a straight flag from the top of some 1s, down to the left, 25-55% of the digit's height
    long, 35-60 degrees away from the stem (upright 1s only): steeper and shorter than a 7's bar, still a 1."""
    if labels is None or settings.flag_probability <= 0:
        return img
    u = uniform(generator, (img.shape[0], 3), img.device)
    chosen = (labels == settings.flag_label) & active & (u[:, 0] < settings.flag_probability)
    lo, hi = settings.flag_length
    return apply_chosen(img, chosen, _flag, lo + u[:, 1] * (hi - lo), u[:, 2])


def _flag(sel: torch.Tensor, length_share: torch.Tensor, u_angle: torch.Tensor) -> torch.Tensor:
    _, h, w = sel.shape
    top, bottom = ink_rows(sel)
    x0 = centre_x(row_of(sel, top.clamp(0, h - 1).long()), w / 2)
    y0 = top + 0.5
    length = length_share * (bottom - top).clamp_min(4)
    # the flag opens 35-60 degrees away from the stem (a slanted 1's stem already goes down-left)
    foot_x = centre_x(row_of(sel, bottom.clamp(0, h - 1).long()), 0.0)
    stem = torch.atan2(bottom - top, x0 - foot_x)  # 90 degrees: upright, less: leaning right
    angle = (stem - torch.deg2rad(35 + u_angle * 25)).clamp_min(math.radians(20))
    upright = (stem >= math.radians(70)).float().view(-1, 1, 1)  # on a leaning 1 a flag would read as a 7's bar
    x1, y1 = x0 - length * torch.cos(angle), y0 + length * torch.sin(angle)
    ends = torch.stack([torch.stack([x0, y0], 1), torch.stack([x1, y1], 1)], 1)  # (k, 2, 2)
    return torch.maximum(sel, polyline_ink(ends, stroke_radius(sel), h, w) * upright)


def add_tails(img: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None,
              settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """Give some 9s (and fewer 7s) a foot that curves back to the left and rises a little: a
    quadratic curve from just above the stem's lowest ink, dipping a pixel below it, ending 45-95%
    of the digit's width to the left and 5-30% of its height up. The digit keeps its box height."""
    if labels is None:
        return img
    u = uniform(generator, (img.shape[0], 5), img.device)
    p = torch.where(labels == 9, settings.tail_probability,
                    torch.where(labels == 7, settings.tail_probability_7, 0.0))
    chosen = active & (u[:, 0] < p)
    return apply_chosen(img, chosen, _tail, u[:, 1:])


def _tail(sel: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    _, h, w = sel.shape
    top, bottom = ink_rows(sel)
    left, right = ink_columns(sel)
    width = (right - left + 1).clamp_min(6)
    height = (bottom - top + 1).clamp_min(6)
    rows = bottom.clamp(1, h - 1).long()
    foot = row_of(sel, rows) + row_of(sel, rows - 1)  # (k, W): the last two rows
    fx = centre_x(foot, (left + right) / 2 + 0.5)
    y_end = bottom + 0.5
    y0 = y_end - 0.5 - u[:, 0] * 2.0  # start a little above the foot, on the stem
    length = (0.45 + u[:, 1] * 0.5) * width
    x_end = (fx - length).clamp_min(1.5)
    rise = (0.05 + u[:, 2] * 0.25) * height
    dip = 0.5 + u[:, 3] * 1.0
    p0 = torch.stack([fx, y0], 1)
    p1 = torch.stack([fx - 0.1 * length, y_end + 2 * dip], 1)
    p2 = torch.stack([x_end, y_end - rise], 1)
    t = torch.linspace(0, 1, 11, device=sel.device).view(1, -1, 1)
    curve = (1 - t) ** 2 * p0[:, None] + 2 * t * (1 - t) * p1[:, None] + t ** 2 * p2[:, None]  # (k, 11, 2)
    return torch.maximum(sel, polyline_ink(curve, stroke_radius(sel), h, w))


def open_loops(img: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None,
               settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """Erase the loop of some 9s where its left side meets the bottom: a disc on the leftmost ink
    of a row 30-50% down the digit (a 9 drawn from the top right that never closes its loop)."""
    if labels is None or settings.open_loop_probability <= 0:
        return img
    u = uniform(generator, (img.shape[0], 3), img.device)
    chosen = (labels == 9) & active & (u[:, 0] < settings.open_loop_probability)
    return apply_chosen(img, chosen, _open_loop, u[:, 1:])


def _open_loop(sel: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    k, h, w = sel.shape
    top, bottom = ink_rows(sel)
    row = (top + (0.3 + 0.2 * u[:, 0]) * (bottom - top)).round().clamp(0, h - 1).long()
    line = row_of(sel, row) > 0.3  # (k, W)
    c = pixel_centres(1, w, sel.device)[1] - 0.5
    left = torch.where(line, c, float(w)).amin(dim=1)
    radius = torch.where(left < w, 1.3 + 0.8 * u[:, 1], 0.0)  # no ink on that row: nothing
    keep = disc_keep((row.float() + 0.5).view(k, 1), (left + 1.0).view(k, 1), radius.view(k, 1), h, w)
    return sel * keep
