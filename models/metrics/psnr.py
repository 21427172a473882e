"""Peak signal-to-noise ratio per image."""
from __future__ import annotations

import torch

from models.metrics.image_checks import check_image_pair


def psnr(recon_BCHW: torch.Tensor, ref_BCHW: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """PSNR in dB of each image, `10 log10(data_range² / MSE)`: shape (B,); +inf for identical images."""
    check_image_pair(recon_BCHW, ref_BCHW)
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    error = recon_BCHW.to(torch.float64) - ref_BCHW.to(torch.float64)
    mse_B = error.square().mean(dim=(1, 2, 3))
    return (10.0 * torch.log10(data_range**2 / mse_B)).to(recon_BCHW.dtype)
