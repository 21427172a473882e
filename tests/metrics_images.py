"""Test images shared by the metrics and data tests: the LPIPS triplet and Kodak crops."""
from __future__ import annotations

from pathlib import Path

import torch

from models.data.image_files import load_image

TESTS_DIR = Path(__file__).resolve().parent
LPIPS_CHECK_DIR = TESTS_DIR / "data" / "lpips-check"
SHARED_DATA_DIR = TESTS_DIR.parents[0].parent / "shared" / "data"


def lpips_triplet() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ex_ref, ex_p0, ex_p1) as (1, 3, 64, 64) float tensors in [0, 1]."""
    return tuple(load_image(LPIPS_CHECK_DIR / f"{name}.png")[None] for name in ("ex_ref", "ex_p0", "ex_p1"))


def noisy_pair(height: int, width: int, noise: float = 0.08, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A Kodak crop (top-left height x width of kodim05) and a clamped noisy copy, each (1, 3, H, W)."""
    reference = load_image(SHARED_DATA_DIR / "kodak" / "kodim05.png")[None, :, :height, :width]
    generator = torch.Generator().manual_seed(seed)
    noisy = (reference + noise * torch.randn(reference.shape, generator=generator)).clamp(0, 1)
    return noisy, reference
