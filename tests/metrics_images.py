"""Test images shared by the metrics and data tests: the LPIPS triplet (committed) and generated photo-like pairs."""
from __future__ import annotations

from pathlib import Path

import torch

from models.data.image_files import load_image

TESTS_DIR = Path(__file__).resolve().parent
LPIPS_CHECK_DIR = TESTS_DIR / "data" / "lpips-check"


def lpips_triplet() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ex_ref, ex_p0, ex_p1) as (1, 3, 64, 64) float tensors in [0, 1]."""
    return tuple(load_image(LPIPS_CHECK_DIR / f"{name}.png")[None] for name in ("ex_ref", "ex_p0", "ex_p1"))


def noisy_pair(height: int, width: int, noise: float = 0.08, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A photo-like reference (smooth colour regions, edges and fine texture) and a clamped noisy copy, each (1, 3, H, W)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 9, 9, generator=torch.Generator().manual_seed(1234))
    regions = torch.nn.functional.interpolate(coarse, size=(height, width), mode="nearest")
    smooth = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    texture = 0.08 * torch.sin(rows * 0.9) * torch.cos(cols * 0.7)
    reference = (0.5 * regions + 0.5 * smooth + texture).clamp(0, 1)
    noisy = (reference + noise * torch.randn(reference.shape, generator=generator)).clamp(0, 1)
    return noisy, reference
