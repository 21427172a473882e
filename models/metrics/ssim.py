"""SSIM (Wang et al. 2004) and MS-SSIM (Wang et al. 2003) per image, computed by pytorch-msssim.

The kept library's conventions: an 11-tap Gaussian window (σ = 1.5) over the valid region only,
K = (0.01, 0.03), the mean over channels last (scikit-image's `structural_similarity` with
gaussian_weights=True, sigma=1.5, use_sample_covariance=False gives the same SSIM); MS-SSIM uses
the five weights of Wang et al. 2003, clamps negative terms to 0 and halves the image with a 2x2
average pool that zero-pads odd sizes. This module adds the input checks and per-image results.
"""
from __future__ import annotations

import pytorch_msssim
import torch

from models.metrics.image_checks import check_image_pair

MS_SSIM_LEVELS = 5  # pytorch-msssim's default weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW_SIZE = 11


def ms_ssim_min_side(levels: int = MS_SSIM_LEVELS, window_size: int = WINDOW_SIZE) -> int:
    """Smallest image side MS-SSIM accepts: the window must fit the coarsest of `levels` scales."""
    return (window_size - 1) * 2 ** (levels - 1) + 1


def _prepare(recon: torch.Tensor, ref: torch.Tensor, min_side: int, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    check_image_pair(recon, ref)
    height, width = recon.shape[-2:]
    if min(height, width) < min_side:
        raise ValueError(
            f"{what} needs images of at least {min_side} px on the shorter side, got {height}x{width}"
        )
    dtype = torch.promote_types(recon.dtype, torch.float32)
    return recon.to(dtype), ref.to(dtype)


def ssim(recon_BCHW: torch.Tensor, ref_BCHW: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Mean SSIM of each image over valid window positions and channels: shape (B,)."""
    x, y = _prepare(recon_BCHW, ref_BCHW, WINDOW_SIZE, "SSIM")
    return pytorch_msssim.ssim(x, y, data_range=data_range, size_average=False, win_size=WINDOW_SIZE)


def ms_ssim(recon_BCHW: torch.Tensor, ref_BCHW: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Multi-scale SSIM of each image: shape (B,). Needs a shorter side of `ms_ssim_min_side()` px."""
    x, y = _prepare(recon_BCHW, ref_BCHW, ms_ssim_min_side(), "MS-SSIM")
    return pytorch_msssim.ms_ssim(x, y, data_range=data_range, size_average=False, win_size=WINDOW_SIZE)
