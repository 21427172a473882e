"""Resizing, center crops and seeded random crops/flips of (C, H, W) image tensors."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def resize_shorter_side(image_CHW: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (antialiased bilinear) so that the shorter side is `size`, keeping the aspect ratio."""
    if size < 1:
        raise ValueError(f"resize size must be positive, got {size}")
    height, width = image_CHW.shape[-2:]
    if min(height, width) == size:
        return image_CHW
    scale = size / min(height, width)
    target = (max(size, round(height * scale)), max(size, round(width * scale)))
    resized = F.interpolate(image_CHW[None], size=target, mode="bilinear", align_corners=False, antialias=True)
    return resized[0].clamp(0, 1)


def _check_fits(image_CHW: torch.Tensor, size: int) -> None:
    height, width = image_CHW.shape[-2:]
    if size < 1 or size > min(height, width):
        raise ValueError(f"crop size {size} does not fit an image of {height}x{width}")


def center_crop(image_CHW: torch.Tensor, size: int) -> torch.Tensor:
    """The central size x size window (top-left corner rounded down)."""
    _check_fits(image_CHW, size)
    height, width = image_CHW.shape[-2:]
    top, left = (height - size) // 2, (width - size) // 2
    return image_CHW[..., top : top + size, left : left + size]


def random_crop_flip(
    image_CHW: torch.Tensor, size: int, generator: torch.Generator, hflip: bool = True
) -> torch.Tensor:
    """A size x size window at a position drawn from `generator`, mirrored left-right with p = 1/2."""
    _check_fits(image_CHW, size)
    height, width = image_CHW.shape[-2:]
    top = int(torch.randint(height - size + 1, (1,), generator=generator))
    left = int(torch.randint(width - size + 1, (1,), generator=generator))
    crop = image_CHW[..., top : top + size, left : left + size]
    if hflip and bool(torch.rand((), generator=generator) < 0.5):
        crop = crop.flip(-1)
    return crop


def trim_to_patch(image_CHW, patch_size: int):
    """Central part of an image whose sides are the largest multiples of the patch size."""
    height, width = image_CHW.shape[-2:]
    top, left = (height % patch_size) // 2, (width % patch_size) // 2
    return image_CHW[:, top:top + height - height % patch_size, left:left + width - width % patch_size]
