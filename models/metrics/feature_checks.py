"""Validation of feature matrices (N samples x D dimensions) given to distribution metrics."""
from __future__ import annotations

import numpy as np
import torch


def as_feature_matrix(features: torch.Tensor | np.ndarray, name: str, min_samples: int = 1) -> np.ndarray:
    """Return `features` as a float64 numpy (N, D) array, or raise a ValueError/TypeError naming the issue."""
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    if not isinstance(features, np.ndarray):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(features).__name__}")
    if features.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {features.dtype}")
    if features.ndim != 2:
        raise ValueError(f"{name} must have shape (N samples, D dimensions), got {features.shape}")
    if features.shape[0] < min_samples or features.shape[1] == 0:
        raise ValueError(
            f"{name}: need at least {min_samples} samples of dimension >= 1, got shape {features.shape}"
        )
    features = features.astype(np.float64, copy=False)
    if not np.isfinite(features).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return features


def check_same_dimension(features_a: np.ndarray, features_b: np.ndarray) -> None:
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            f"feature sets have different dimensions: {features_a.shape[1]} and {features_b.shape[1]}"
        )
