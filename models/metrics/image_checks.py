"""Validation of image batches given to the metrics: float (B, C, H, W) tensors with finite values."""
from __future__ import annotations

import torch


def check_images(images: torch.Tensor, name: str = "images") -> None:
    """Raise TypeError/ValueError unless `images` is a non-empty finite float (B, C, H, W) tensor."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if not images.is_floating_point():
        raise TypeError(f"{name} must be a float tensor with values in [0, 1], got dtype {images.dtype}")
    if images.ndim != 4:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(images.shape)}")
    if images.numel() == 0:
        raise ValueError(f"{name} is empty: shape {tuple(images.shape)}")
    if not torch.isfinite(images).all():
        raise ValueError(f"{name} contains NaN or infinite values")


def check_image_pair(recon: torch.Tensor, ref: torch.Tensor) -> None:
    """Check both batches and that they have the same shape and device."""
    check_images(recon, "reconstruction")
    check_images(ref, "reference")
    if recon.shape != ref.shape:
        raise ValueError(
            f"reconstruction shape {tuple(recon.shape)} differs from reference shape {tuple(ref.shape)}"
        )
    if recon.device != ref.device:
        raise ValueError(f"reconstruction is on {recon.device} but reference is on {ref.device}")
