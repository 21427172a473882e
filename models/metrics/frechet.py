"""Fréchet distance between Gaussians fitted to two feature sets (the formula behind FID)."""
from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from models.metrics.feature_checks import as_feature_matrix, check_same_dimension


def gaussian_statistics(
    features_ND: torch.Tensor | np.ndarray, name: str = "features"
) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) in float64; needs more samples than dimensions.

    With N <= D samples the sample covariance is singular and the distance it gives is far from the
    population value, so this raises instead of returning such a number.
    """
    features = as_feature_matrix(features_ND, name, min_samples=2)
    samples, dims = features.shape
    if samples <= dims:
        raise ValueError(
            f"{name}: a Fréchet distance needs more samples than feature dimensions, got {samples} "
            f"samples of dimension {dims}; use more or larger images, or more samples per image "
            "(e.g. vgg16_features(..., pooling='spatial'))"
        )
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance_from_statistics(
    mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray
) -> float:
    """||mu_a - mu_b||² + tr(C_a + C_b - 2 (C_a C_b)^{1/2}) for symmetric PSD covariances.

    tr (C_a C_b)^{1/2} is computed as the sum of square roots of the eigenvalues of the symmetric
    matrix C_a^{1/2} C_b C_a^{1/2} (same eigenvalues as C_a C_b), which avoids a non-symmetric sqrtm.
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    dims = mean_a.shape[0]
    if {mean_a.shape, mean_b.shape} != {(dims,)} or {cov_a.shape, cov_b.shape} != {(dims, dims)}:
        raise ValueError(
            f"inconsistent statistics shapes: means {mean_a.shape}, {mean_b.shape}; "
            f"covariances {cov_a.shape}, {cov_b.shape}"
        )
    eigenvalues_a, eigenvectors_a = scipy.linalg.eigh(cov_a)
    sqrt_cov_a = (eigenvectors_a * np.sqrt(np.clip(eigenvalues_a, 0.0, None))) @ eigenvectors_a.T
    middle = sqrt_cov_a @ cov_b @ sqrt_cov_a
    trace_sqrt_product = np.sqrt(np.clip(scipy.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    distance = np.square(mean_a - mean_b).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt_product
    return max(float(distance), 0.0)


def frechet_distance(features_a_ND: torch.Tensor | np.ndarray, features_b_MD: torch.Tensor | np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two (samples, dims) feature sets."""
    stats_a = gaussian_statistics(features_a_ND, "first feature set")
    stats_b = gaussian_statistics(features_b_MD, "second feature set")
    check_same_dimension(stats_a[1], stats_b[1])
    return frechet_distance_from_statistics(*stats_a, *stats_b)
