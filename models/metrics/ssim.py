"""SSIM (Wang et al. 2004) and MS-SSIM (Wang et al. 2003) per image, with an 11-tap Gaussian window.

Conventions follow scikit-image `structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)` and pytorch-msssim: statistics over the valid region of the window
only, the mean over channels last; MS-SSIM clamps negative terms to 0 and halves the image with a
2x2 average pool that zero-pads odd sizes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from models.metrics.image_checks import check_image_pair

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5


def ms_ssim_min_side(levels: int = len(MS_SSIM_WEIGHTS), window_size: int = WINDOW_SIZE) -> int:
    """Smallest image side MS-SSIM accepts: the window must fit the coarsest of `levels` scales."""
    return (window_size - 1) * 2 ** (levels - 1) + 1


def _gaussian_window(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    offsets = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    window = torch.exp(-offsets.square() / (2 * sigma**2))
    return window / window.sum()


def _blur_valid(images_BCHW: torch.Tensor, window_K: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter over each channel, keeping only positions where the window fits."""
    channels = images_BCHW.shape[1]
    horizontal = window_K.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    vertical = window_K.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    return F.conv2d(F.conv2d(images_BCHW, horizontal, groups=channels), vertical, groups=channels)


def _ssim_and_contrast_structure(
    x_BCHW: torch.Tensor, y_BCHW: torch.Tensor, data_range: float, window_K: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean SSIM and mean contrast-structure term, each (B, C)."""
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    batch = x_BCHW.shape[0]
    stacked = torch.cat([x_BCHW, y_BCHW, x_BCHW * x_BCHW, y_BCHW * y_BCHW, x_BCHW * y_BCHW])
    mu_x, mu_y, mean_xx, mean_yy, mean_xy = _blur_valid(stacked, window_K).split(batch)
    var_x = mean_xx - mu_x.square()
    var_y = mean_yy - mu_y.square()
    cov_xy = mean_xy - mu_x * mu_y
    contrast_structure = (2 * cov_xy + c2) / (var_x + var_y + c2)
    luminance = (2 * mu_x * mu_y + c1) / (mu_x.square() + mu_y.square() + c1)
    return (luminance * contrast_structure).mean(dim=(2, 3)), contrast_structure.mean(dim=(2, 3))


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
    window_K = _gaussian_window(WINDOW_SIZE, WINDOW_SIGMA, x)
    ssim_BC, _ = _ssim_and_contrast_structure(x, y, data_range, window_K)
    return ssim_BC.mean(dim=1)


def ms_ssim(
    recon_BCHW: torch.Tensor,
    ref_BCHW: torch.Tensor,
    data_range: float = 1.0,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
) -> torch.Tensor:
    """Multi-scale SSIM of each image: shape (B,). Needs a shorter side of `ms_ssim_min_side()` px."""
    x, y = _prepare(recon_BCHW, ref_BCHW, ms_ssim_min_side(len(weights)), "MS-SSIM")
    window_K = _gaussian_window(WINDOW_SIZE, WINDOW_SIGMA, x)
    terms = []
    for level in range(len(weights)):
        ssim_BC, contrast_structure_BC = _ssim_and_contrast_structure(x, y, data_range, window_K)
        if level == len(weights) - 1:
            terms.append(torch.relu(ssim_BC))
        else:
            terms.append(torch.relu(contrast_structure_BC))
            padding = (x.shape[2] % 2, x.shape[3] % 2)
            x = F.avg_pool2d(x, kernel_size=2, padding=padding)
            y = F.avg_pool2d(y, kernel_size=2, padding=padding)
    exponents_L11 = torch.tensor(weights, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    return torch.stack(terms).pow(exponents_L11).prod(dim=0).mean(dim=1)
