"""Batch augmentation on tensors (rotation, scale, shift, shear, stroke thickness, and the shapes of
real handwriting), for robustness to how people draw. Runs on whole batches on the training device.

`handwriting` (see core.handwriting_augment) adds elastic distortion, bent stems, gaps in strokes,
crossbars on 7s, flags on 1s, curled-back feet and open loops on 9s (those need the labels); None
keeps the plain affine + thickness recipe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lstm_desktop.core.data.image_sets import denormalize, normalize
from lstm_desktop.core.data.handwriting_augment import (HandwritingSettings, add_crossbars, add_flags, add_tails,
                                                   cut_gaps, open_loops, warp_grid)


@dataclass(frozen=True)
class AugmentSettings:
    rotation_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.12)
    shift_px: float = 2.5
    shear: float = 0.15
    thickness: tuple[float, float] = (-0.7, 1.0)  # <0 thins strokes, >0 thickens them
    probability: float = 0.9  # share of each batch that is augmented
    handwriting: HandwritingSettings | None = None


PLAIN = AugmentSettings()  # rotation, scale, shift, shear, thickness: the shipped model's recipe
HANDWRITING = AugmentSettings(handwriting=HandwritingSettings())  # plus elastic, bends, gaps, crossbars, flags


def augment_batch(x: torch.Tensor, generator: torch.Generator | None = None,
                  settings: AugmentSettings = AugmentSettings(),
                  labels: torch.Tensor | None = None) -> torch.Tensor:
    """x: normalised (B, H, W) batch; returns an augmented copy in the same range. labels (B,)
    enable the label-specific shapes (crossbars on 7s); without them those are skipped."""
    b, h, w = x.shape
    dev = x.device
    rand = lambda *shape: torch.rand(*shape, generator=generator).to(dev)  # noqa: E731
    img = denormalize(x).unsqueeze(1)

    angle = (rand(b) * 2 - 1) * math.radians(settings.rotation_deg)
    lo, hi = settings.scale
    scale = lo + rand(b) * (hi - lo)
    shear = (rand(b) * 2 - 1) * settings.shear
    shift = (rand(b, 2) * 2 - 1) * (2 * settings.shift_px / w)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([
        torch.stack([cos, -sin + shear, shift[:, 0]], dim=1),
        torch.stack([sin, cos, shift[:, 1]], dim=1),
    ], dim=1)
    keep = rand(b) >= settings.probability
    identity = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]], device=dev)
    theta[keep] = identity
    hw = settings.handwriting
    if hw is not None:
        img = add_flags(add_crossbars(img, labels, generator, hw, ~keep), labels, generator, hw, ~keep)
        img = open_loops(add_tails(img, labels, generator, hw, ~keep), labels, generator, hw, ~keep)
        grid = warp_grid(theta, (h, w), generator, hw, ~keep)
    else:
        grid = F.affine_grid(theta, list(img.shape), align_corners=False)
    img = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    t_lo, t_hi = settings.thickness
    amount = (t_lo + rand(b) * (t_hi - t_lo)).view(b, 1, 1, 1)
    amount = torch.where(keep.view(b, 1, 1, 1), torch.zeros_like(amount), amount)
    thick = F.max_pool2d(img, 3, stride=1, padding=1)
    thin = -F.max_pool2d(-img, 3, stride=1, padding=1)
    img = torch.where(amount > 0, img + amount * (thick - img), img + (-amount) * (thin - img))
    if hw is not None:
        img = cut_gaps(img, generator, hw, ~keep)
    return normalize(img.clamp_(0.0, 1.0).squeeze(1))
