"""The building blocks of batch augmentation that must not make the host wait on a GPU: random
numbers drawn on the images' device, replacing chosen images without data-dependent shapes, and
the antialiased ink of strokes and discs drawn on whole batches.

Why: a CPU generator plus a copy, `.cpu()`, `.item()` or boolean-mask indexing each stop the host
until the GPU has caught up, every batch; augmentation cost 3x (13.7x with the shapes) of a training
step on an H200 that way.
"""

from __future__ import annotations

import functools
from typing import Callable

import torch

MASKED_ON_CPU = False  # tests: draw on every image and keep the chosen with torch.where on the CPU too


def uniform(generator: torch.Generator | None, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """U[0, 1) numbers from `generator` on `device`: drawn there when the generator lives there."""
    where = generator.device if generator is not None else device
    return torch.rand(shape, generator=generator, device=where).to(device)


def normal(generator: torch.Generator | None, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """N(0, 1) numbers from `generator` on `device`."""
    where = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=where).to(device)


def generator_for(device: torch.device | str, seed: int) -> torch.Generator:
    """A generator on `device` seeded with `seed` (a CPU one where the device has none of its own)."""
    try:
        return torch.Generator(device=torch.device(device)).manual_seed(seed)
    except RuntimeError:
        return torch.Generator().manual_seed(seed)


def apply_chosen(img: torch.Tensor, chosen: torch.Tensor,
                 draw: Callable[..., torch.Tensor], *per_image: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) images with the `chosen` (B,) ones replaced by draw(their (k, H, W) float
    pixels, *their rows of per_image). Off the CPU (or with MASKED_ON_CPU) every image is drawn on
    and torch.where keeps the chosen: no nonzero(), whose size the host would have to wait for."""
    if img.device.type != "cpu" or MASKED_ON_CPU:
        new = draw(img[:, 0].float(), *per_image).unsqueeze(1).to(img.dtype)
        return torch.where(chosen.view(-1, 1, 1, 1), new, img)
    idx = chosen.nonzero().flatten()
    if len(idx) == 0:
        return img
    out = img.clone()
    out[idx, 0] = draw(img[idx, 0].float(), *(p[idx] for p in per_image)).to(img.dtype)
    return out


@functools.lru_cache(maxsize=16)
def pixel_centres(h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(H,) row and (W,) column centres in pixels (0.5, 1.5, ...), made on `device` once."""
    return (torch.arange(h, dtype=torch.float32, device=device) + 0.5,
            torch.arange(w, dtype=torch.float32, device=device) + 0.5)


def row_of(sel: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """(k, W): row rows[i] (long, in range) of each image of (k, H, W)."""
    w = sel.shape[2]
    return sel.gather(1, rows.view(-1, 1, 1).expand(-1, 1, w)).squeeze(1)


def ink_rows(sel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """First and last rows holding ink, per image of (k, H, W) (H and -1 where there is none)."""
    h = sel.shape[1]
    rows_with_ink = sel.amax(dim=2) > 0.3
    r = pixel_centres(h, 1, sel.device)[0] - 0.5
    top = torch.where(rows_with_ink, r, float(h)).amin(dim=1)
    bottom = torch.where(rows_with_ink, r, -1.0).amax(dim=1)
    return top, bottom


def ink_columns(sel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """First and last columns holding ink, per image of (k, H, W) (W and -1 where there is none)."""
    w = sel.shape[2]
    cols_with_ink = sel.amax(dim=1) > 0.3
    c = pixel_centres(1, w, sel.device)[1] - 0.5
    left = torch.where(cols_with_ink, c, float(w)).amin(dim=1)
    right = torch.where(cols_with_ink, c, -1.0).amax(dim=1)
    return left, right


def centre_x(line: torch.Tensor, fallback: torch.Tensor | float) -> torch.Tensor:
    """Ink-weighted mean x (pixels) of each (k, W) row; `fallback` where the row has no ink."""
    xs = pixel_centres(1, line.shape[1], line.device)[1]
    mass = line.sum(dim=1)
    return torch.where(mass > 0, (line * xs).sum(dim=1) / mass.clamp_min(1e-6), fallback)


def stroke_radius(sel: torch.Tensor) -> torch.Tensor:
    """About half the stroke width of each image, in pixels, from its ink."""
    return (sel.sum(dim=(1, 2)) / (sel > 0.5).sum(dim=(1, 2)).clamp_min(1)).clamp(0.5, 1.0) * 1.2


def disc_keep(cy: torch.Tensor, cx: torch.Tensor, radius: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(k, H, W) what survives erasing n antialiased discs per image: centres (k, n) in pixels,
    radii (k, n); a radius of 0 or less erases (next to) nothing."""
    n = cy.shape[1]
    ys, xs = pixel_centres(h, w, cy.device)
    d = torch.sqrt((ys.view(1, 1, h, 1) - cy.view(-1, n, 1, 1)) ** 2 + (xs.view(1, 1, 1, w) - cx.view(-1, n, 1, 1)) ** 2)
    return torch.clamp(d - radius.view(-1, n, 1, 1) + 0.5, 0.0, 1.0).amin(dim=1)


def polyline_ink(points: torch.Tensor, radius: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(k, H, W) antialiased ink of a stroke through (k, P, 2) points (x, y in pixels) of half-width radius (k,)."""
    ys, xs = pixel_centres(h, w, points.device)
    ys, xs = ys.view(1, 1, h, 1), xs.view(1, 1, 1, w)
    a, b = points[:, :-1], points[:, 1:]
    ax, ay = a[..., 0, None, None], a[..., 1, None, None]  # (k, P-1, 1, 1)
    dx, dy = (b[..., 0] - a[..., 0])[..., None, None], (b[..., 1] - a[..., 1])[..., None, None]
    px, py = xs - ax, ys - ay
    t = ((px * dx + py * dy) / (dx * dx + dy * dy).clamp_min(1e-6)).clamp(0, 1)
    dist = torch.sqrt((px - t * dx) ** 2 + (py - t * dy) ** 2).amin(dim=1)  # (k, H, W)
    return torch.clamp(radius.view(-1, 1, 1) + 0.5 - dist, 0.0, 1.0)
