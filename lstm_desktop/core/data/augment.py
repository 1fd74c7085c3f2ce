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

from lstm_desktop.core.data.augment_ops import uniform
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


def draw_affine(b: int, w: int, generator: torch.Generator | None, settings: AugmentSettings,
                device: torch.device, dtype: torch.dtype = torch.float32
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each image's random (2, 3) affine map (identity where not augmented), whether it is
    augmented (B,) bool, and its stroke thickness change (B,) (0 where not): one draw on `device`."""
    u = uniform(generator, (b, 7), device).to(dtype)
    angle = (u[:, 0] * 2 - 1) * math.radians(settings.rotation_deg)
    lo, hi = settings.scale
    scale = lo + u[:, 1] * (hi - lo)
    shear = (u[:, 2] * 2 - 1) * settings.shear
    shift = (u[:, 3:5] * 2 - 1) * (2 * settings.shift_px / w)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([
        torch.stack([cos, -sin + shear, shift[:, 0]], dim=1),
        torch.stack([sin, cos, shift[:, 1]], dim=1),
    ], dim=1)
    active = u[:, 5] < settings.probability
    theta = torch.where(active.view(b, 1, 1), theta, torch.eye(2, 3, device=device, dtype=dtype))
    t_lo, t_hi = settings.thickness
    amount = torch.where(active, t_lo + u[:, 6] * (t_hi - t_lo), 0.0)
    return theta, active, amount


def augment_batch(x: torch.Tensor, generator: torch.Generator | None = None,
                  settings: AugmentSettings = AugmentSettings(),
                  labels: torch.Tensor | None = None) -> torch.Tensor:
    """x: normalised (B, H, W) batch; returns an augmented copy in the same range. labels (B,)
    enable the label-specific shapes (crossbars on 7s); without them those are skipped. Give it a
    generator on x's device (core.augment_ops.generator_for): then the host never waits."""
    b, h, w = x.shape
    img = denormalize(x).unsqueeze(1)
    theta, active, amount = draw_affine(b, w, generator, settings, x.device, img.dtype)
    hw = settings.handwriting
    if hw is not None:
        img = add_flags(add_crossbars(img, labels, generator, hw, active), labels, generator, hw, active)
        img = open_loops(add_tails(img, labels, generator, hw, active), labels, generator, hw, active)
        grid = warp_grid(theta, (h, w), generator, hw, active)
    else:
        grid = F.affine_grid(theta, list(img.shape), align_corners=False)
    img = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    amount = amount.view(b, 1, 1, 1)
    thick = F.max_pool2d(img, 3, stride=1, padding=1)
    thin = -F.max_pool2d(-img, 3, stride=1, padding=1)
    img = torch.where(amount > 0, img + amount * (thick - img), img + (-amount) * (thin - img))
    if hw is not None:
        img = cut_gaps(img, generator, hw, active)
    return normalize(img.clamp_(0.0, 1.0).squeeze(1))


class EpochAugmenter:
    """The augmented batches of an epoch. On a GPU it augments a chunk of batches in one call:
    ~200 small kernels an augmented call make it bound by launches there, and one call for many
    batches spreads them (each image is drawn on independently, so the distribution is the same).
    Elsewhere one batch a call (a stop or pause is never behind a big chunk)."""

    def __init__(self, settings: AugmentSettings, generator: torch.Generator, device: torch.device,
                 batch_size: int, per_call: int | None = None, chunk_samples: int = 2048) -> None:
        self.settings, self.generator = settings, generator
        on_gpu = torch.device(device).type == "cuda"
        self.per_call = per_call or (max(1, chunk_samples // batch_size) if on_gpu else 1)
        self._key: tuple[int, int] | None = None
        self._chunk: torch.Tensor | None = None

    def batch(self, epoch: int, b: int, ex: torch.Tensor, ey: torch.Tensor, bs: int) -> torch.Tensor:
        """The augmented batch b (of size bs) of the epoch's ordered images ex and labels ey."""
        first = b - b % self.per_call
        if self._key != (epoch, first) or self._chunk is None:
            lo, hi = first * bs, (first + self.per_call) * bs
            self._chunk = augment_batch(ex[lo:hi], self.generator, self.settings, labels=ey[lo:hi])
            self._key = (epoch, first)
        off = (b - first) * bs
        return self._chunk[off:off + bs]
