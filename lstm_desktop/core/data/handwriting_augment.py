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

Every random number comes from the generator passed in, so training stays reproducible.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


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


def _rand(generator: torch.Generator | None, *shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=generator)


@functools.lru_cache(maxsize=8)
def _base_points(h: int, w: int) -> torch.Tensor:
    """(H*W, 3) pixel centres in grid units (align_corners=False) with a 1 column, for affine maps."""
    ys = (torch.arange(h, dtype=torch.float32) * 2 + 1) / h - 1
    xs = (torch.arange(w, dtype=torch.float32) * 2 + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten(), torch.ones(h * w)], dim=1)


@functools.lru_cache(maxsize=8)
def _smooth_basis(k: int, h: int, w: int) -> torch.Tensor:
    """(k*k, H*W): the bicubic upsampling of each of k x k control points, so that an elastic field
    is one small matrix product instead of an interpolation call."""
    eye = torch.eye(k * k).view(k * k, 1, k, k)
    return F.interpolate(eye, size=(h, w), mode="bicubic", align_corners=True).view(k * k, h * w)


def warp_grid(theta: torch.Tensor, size: tuple[int, int], generator: torch.Generator | None,
              settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """(B, H, W, 2) grid for grid_sample: affine theta + elastic + bend where `active` (B,) is set.
    Equal to F.affine_grid(theta, align_corners=False) when nothing else applies."""
    b = theta.shape[0]
    h, w = size
    dev, dtype = theta.device, theta.dtype
    base = _base_points(h, w).to(dev, dtype)
    grid = torch.matmul(base, theta.transpose(1, 2))  # (B, H*W, 2)
    # elastic: coarse normal noise, smoothly upsampled; in grid units (2 / side per pixel)
    k = settings.elastic_grid
    noise = torch.randn(b, 2, k * k, generator=generator).to(dev, dtype) * settings.elastic_px
    field = torch.matmul(noise, _smooth_basis(k, h, w).to(dev, dtype)).transpose(1, 2)  # (B, H*W, 2)
    field = field * torch.tensor([2.0 / w, 2.0 / h], device=dev, dtype=dtype)
    # bend: dx = c * (relu(s * y - y0) / (end - y0))^2, y in [-1, 1]; s = +1 bends the bottom, -1 the top
    y = base[:, 1].view(1, h * w)
    start = (_rand(generator, b) * 0.4).to(dev, dtype).view(b, 1)
    side = torch.where(_rand(generator, b) < 0.75, 1.0, -1.0).to(dev, dtype).view(b, 1)
    amount = ((_rand(generator, b) * 2 - 1) * settings.bend_px * 2.0 / w).to(dev, dtype).view(b, 1)
    use_bend = (_rand(generator, b) < settings.bend_probability).to(dev, dtype).view(b, 1)
    # MNIST digits fill the middle 20 of 28 rows: |y| <= 0.71, so the digit's end moves by `amount`
    reach = (_DIGIT_END - start).clamp_min(1e-3)
    bend = amount * use_bend * (torch.relu(side * y - start) / reach) ** 2
    field[..., 0] -= bend  # sampling from x - dx moves the ink by +dx
    grid = grid + field * active.to(dev, dtype).view(b, 1, 1)
    return grid.view(b, h, w, 2)


def cut_gaps(img: torch.Tensor, generator: torch.Generator | None, settings: HandwritingSettings,
             active: torch.Tensor) -> torch.Tensor:
    """Erase 1-2 ink discs per selected image of (B, 1, H, W) [0, 1] images."""
    b, _, h, w = img.shape
    chosen = (_rand(generator, b) < settings.gap_probability) & active.cpu()
    if not bool(chosen.any()):
        return img
    idx = chosen.nonzero().flatten()
    ink = img[idx.to(img.device), 0].flatten(1).float().cpu() + 1e-6
    n_gaps = 2
    centres = torch.multinomial(ink, n_gaps, replacement=True, generator=generator)  # (k, 2)
    cy = (centres // w).float() + 0.5
    cx = (centres % w).float() + 0.5
    lo, hi = settings.gap_radius
    radius = lo + _rand(generator, len(idx), n_gaps) * (hi - lo)
    second = _rand(generator, len(idx)) < 0.4  # most images get one gap, some two
    radius[:, 1] = torch.where(second, radius[:, 1], torch.zeros_like(radius[:, 1]))
    keep = _disc_keep(cy, cx, radius, h, w)
    out = img.clone()
    out[idx.to(img.device), 0] = img[idx.to(img.device), 0] * keep.to(img.device, img.dtype)
    return out


def _disc_keep(cy: torch.Tensor, cx: torch.Tensor, radius: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(k, H, W) what survives erasing n antialiased discs per image: centres (k, n) in pixels,
    radii (k, n); a radius of 0 or less erases (next to) nothing."""
    n = cy.shape[1]
    ys = torch.arange(h, dtype=torch.float32).view(1, 1, h, 1) + 0.5
    xs = torch.arange(w, dtype=torch.float32).view(1, 1, 1, w) + 0.5
    d = torch.sqrt((ys - cy.view(-1, n, 1, 1)) ** 2 + (xs - cx.view(-1, n, 1, 1)) ** 2)
    return torch.clamp(d - radius.view(-1, n, 1, 1) + 0.5, 0.0, 1.0).amin(dim=1)


def add_crossbars(img: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None,
                  settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """Draw a short, slightly tilted bar across the stem of some 7s, at the stem's own width."""
    b, _, h, w = img.shape
    if labels is None:
        return img
    chosen = (labels.cpu() == settings.crossbar_label) & active.cpu() & (_rand(generator, b) < settings.crossbar_probability)
    picked = _picked(img, chosen)
    if picked is None:
        return img
    idx, sel, top, bottom = picked  # sel: (k, H, W)
    k = len(idx)
    # the bar's row: 45-62% of the ink's height; its centre: the ink's centre on that row
    frac = 0.45 + _rand(generator, k) * 0.17
    row = (top + frac * (bottom - top)).clamp(0, h - 1)
    line = sel[torch.arange(k), row.round().long()]  # (k, W)
    mass = line.sum(dim=1)
    centre = torch.where(mass > 0, (line * (torch.arange(w) + 0.5)).sum(dim=1) / mass.clamp_min(1e-6),
                         torch.full_like(mass, w / 2))
    half = 2.5 + _rand(generator, k) * 2.5
    shift = (_rand(generator, k) * 2 - 1) * 1.0
    tilt = (_rand(generator, k) * 2 - 1) * 0.12
    thickness = _stroke_radius(sel)
    ys = (torch.arange(h, dtype=torch.float32) + 0.5).view(1, h, 1)
    xs = (torch.arange(w, dtype=torch.float32) + 0.5).view(1, 1, w)
    cx = (centre + shift).view(k, 1, 1)
    cy = (row + 0.5).view(k, 1, 1) + tilt.view(k, 1, 1) * (xs - cx)
    along = torch.clamp(half.view(k, 1, 1) + 0.5 - (xs - cx).abs(), 0.0, 1.0)
    across = torch.clamp(thickness.view(k, 1, 1) + 0.5 - (ys - cy).abs(), 0.0, 1.0)
    bar = along * across
    out = img.clone()
    out[idx.to(img.device), 0] = torch.maximum(sel, bar).to(img.device, img.dtype)
    return out


def _picked(img: torch.Tensor, chosen: torch.Tensor):
    """(indices, (k, H, W) CPU float copies, first and last ink rows) of the chosen images of
    (B, 1, H, W), or None if none is chosen."""
    if not bool(chosen.any()):
        return None
    idx = chosen.nonzero().flatten()
    sel = img[idx.to(img.device), 0].float().cpu()
    return (idx, sel, *_ink_rows(sel))


def _ink_rows(sel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """First and last rows holding ink, per image of (k, H, W)."""
    h = sel.shape[1]
    rows_with_ink = sel.amax(dim=2) > 0.3
    r = torch.arange(h, dtype=torch.float32)
    top = torch.where(rows_with_ink, r, torch.full_like(r, float(h))).amin(dim=1)
    bottom = torch.where(rows_with_ink, r, torch.full_like(r, -1.0)).amax(dim=1)
    return top, bottom


def _stroke_radius(sel: torch.Tensor) -> torch.Tensor:
    """About half the stroke width of each image, in pixels, from its ink."""
    return (sel.sum(dim=(1, 2)) / (sel > 0.5).sum(dim=(1, 2)).clamp_min(1)).clamp(0.5, 1.0) * 1.2


def add_flags(img: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None,
              settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """Draw a straight flag from the top of some 1s, down to the left, 25-55% of the digit's height
    long, 35-60 degrees away from the stem (upright 1s only): steeper and shorter than a 7's bar, still a 1."""
    b, _, h, w = img.shape
    if labels is None or settings.flag_probability <= 0:
        return img
    chosen = (labels.cpu() == settings.flag_label) & active.cpu() & (_rand(generator, b) < settings.flag_probability)
    picked = _picked(img, chosen)
    if picked is None:
        return img
    idx, sel, top, bottom = picked
    k = len(idx)
    head = sel[torch.arange(k), top.clamp(0, h - 1).long()]
    mass = head.sum(dim=1)
    x0 = torch.where(mass > 0, (head * (torch.arange(w) + 0.5)).sum(dim=1) / mass.clamp_min(1e-6),
                     torch.full_like(mass, w / 2))
    y0 = top + 0.5
    lo, hi = settings.flag_length
    length = (lo + _rand(generator, k) * (hi - lo)) * (bottom - top).clamp_min(4)
    # the flag opens 35-65 degrees away from the stem (a slanted 1's stem already goes down-left)
    foot = sel[torch.arange(k), bottom.clamp(0, h - 1).long()]
    foot_x = (foot * (torch.arange(w) + 0.5)).sum(dim=1) / foot.sum(dim=1).clamp_min(1e-6)
    stem = torch.atan2(bottom - top, x0 - foot_x)  # 90 degrees: upright, less: leaning right
    angle = (stem - torch.deg2rad(35 + _rand(generator, k) * 25)).clamp_min(math.radians(20))
    upright = (stem >= math.radians(70)).float().view(k, 1, 1)  # on a leaning 1 a flag would read as a 7's bar
    x1, y1 = x0 - length * torch.cos(angle), y0 + length * torch.sin(angle)
    ends = torch.stack([torch.stack([x0, y0], 1), torch.stack([x1, y1], 1)], 1)  # (k, 2, 2)
    flag = _polyline_ink(ends, _stroke_radius(sel), h, w) * upright
    out = img.clone()
    out[idx.to(img.device), 0] = torch.maximum(sel, flag).to(img.device, img.dtype)
    return out


def _polyline_ink(points: torch.Tensor, radius: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(k, H, W) antialiased ink of a stroke through (k, P, 2) points (x, y in pixels) of half-width radius (k,)."""
    ys = (torch.arange(h, dtype=torch.float32) + 0.5).view(1, 1, h, 1)
    xs = (torch.arange(w, dtype=torch.float32) + 0.5).view(1, 1, 1, w)
    a, b = points[:, :-1], points[:, 1:]
    ax, ay = a[..., 0, None, None], a[..., 1, None, None]  # (k, P-1, 1, 1)
    dx, dy = (b[..., 0] - a[..., 0])[..., None, None], (b[..., 1] - a[..., 1])[..., None, None]
    px, py = xs - ax, ys - ay
    t = ((px * dx + py * dy) / (dx * dx + dy * dy).clamp_min(1e-6)).clamp(0, 1)
    dist = torch.sqrt((px - t * dx) ** 2 + (py - t * dy) ** 2).amin(dim=1)  # (k, H, W)
    return torch.clamp(radius.view(-1, 1, 1) + 0.5 - dist, 0.0, 1.0)


def add_tails(img: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None,
              settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """Give some 9s (and fewer 7s) a foot that curves back to the left and rises a little: a
    quadratic curve from just above the stem's lowest ink, dipping a pixel below it, ending 45-95%
    of the digit's width to the left and 5-30% of its height up. The digit keeps its box height."""
    b, _, h, w = img.shape
    if labels is None:
        return img
    lab = labels.cpu()
    p = torch.where(lab == 9, settings.tail_probability, torch.where(lab == 7, settings.tail_probability_7, 0.0))
    chosen = active.cpu() & (_rand(generator, b) < p)
    picked = _picked(img, chosen)
    if picked is None:
        return img
    idx, sel, top, bottom = picked
    k = len(idx)
    cols_with_ink = sel.amax(dim=1) > 0.3  # (k, W)
    c = torch.arange(w, dtype=torch.float32)
    left = torch.where(cols_with_ink, c, torch.full_like(c, float(w))).amin(dim=1)
    right = torch.where(cols_with_ink, c, torch.full_like(c, -1.0)).amax(dim=1)
    width = (right - left + 1).clamp_min(6)
    height = (bottom - top + 1).clamp_min(6)
    rows = bottom.clamp(1, h - 1).long()
    foot = sel[torch.arange(k), rows] + sel[torch.arange(k), rows - 1]  # (k, W): the last two rows
    fx = torch.where(foot.sum(1) > 0, (foot * (c + 0.5)).sum(1) / foot.sum(1).clamp_min(1e-6), (left + right) / 2 + 0.5)
    u = _rand(generator, k, 4)
    y_end = bottom + 0.5
    y0 = y_end - 0.5 - u[:, 0] * 2.0  # start a little above the foot, on the stem
    length = (0.45 + u[:, 1] * 0.5) * width
    x_end = (fx - length).clamp_min(1.5)
    rise = (0.05 + u[:, 2] * 0.25) * height
    dip = 0.5 + u[:, 3] * 1.0
    p0 = torch.stack([fx, y0], 1)
    p1 = torch.stack([fx - 0.1 * length, y_end + 2 * dip], 1)
    p2 = torch.stack([x_end, y_end - rise], 1)
    t = torch.linspace(0, 1, 11).view(1, -1, 1)
    curve = (1 - t) ** 2 * p0[:, None] + 2 * t * (1 - t) * p1[:, None] + t ** 2 * p2[:, None]  # (k, 11, 2)
    tail = _polyline_ink(curve, _stroke_radius(sel), h, w)
    out = img.clone()
    out[idx.to(img.device), 0] = torch.maximum(sel, tail).to(img.device, img.dtype)
    return out


def open_loops(img: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None,
               settings: HandwritingSettings, active: torch.Tensor) -> torch.Tensor:
    """Erase the loop of some 9s where its left side meets the bottom: a disc on the leftmost ink
    of a row 30-50% down the digit (a 9 drawn from the top right that never closes its loop)."""
    b, _, h, w = img.shape
    if labels is None or settings.open_loop_probability <= 0:
        return img
    chosen = (labels.cpu() == 9) & active.cpu() & (_rand(generator, b) < settings.open_loop_probability)
    picked = _picked(img, chosen)
    if picked is None:
        return img
    idx, sel, top, bottom = picked
    k = len(idx)
    u = _rand(generator, k, 2)
    row = (top + (0.3 + 0.2 * u[:, 0]) * (bottom - top)).round().clamp(0, h - 1).long()
    line = sel[torch.arange(k), row] > 0.3  # (k, W)
    c = torch.arange(w, dtype=torch.float32)
    left = torch.where(line, c, torch.full_like(c, float(w))).amin(dim=1)
    radius = torch.where(left < w, 1.3 + 0.8 * u[:, 1], torch.zeros(k))  # no ink on that row: nothing
    keep = _disc_keep((row.float() + 0.5).view(k, 1), (left + 1.0).view(k, 1), radius.view(k, 1), h, w)
    out = img.clone()
    out[idx.to(img.device), 0] = (sel * keep).to(img.device, img.dtype)
    return out
