"""Improved precision and recall of generative models (Kynkäänniemi et al. 2019) on feature vectors."""
from __future__ import annotations

import numpy as np
import torch

from models.metrics.feature_checks import as_feature_matrix, check_same_dimension


def _pairwise_distances(queries_QD: torch.Tensor, support_SD: torch.Tensor, batch_size: int):
    for start in range(0, queries_QD.shape[0], batch_size):
        yield torch.cdist(queries_QD[start : start + batch_size], support_SD)


def knn_radii(features_ND: torch.Tensor, k: int, batch_size: int = 1024) -> torch.Tensor:
    """Distance from each sample to its k-th nearest other sample: shape (N,)."""
    rows = [
        distances.topk(k + 1, dim=1, largest=False).values[:, k]
        for distances in _pairwise_distances(features_ND, features_ND, batch_size)
    ]
    return torch.cat(rows)


def coverage(
    queries_QD: torch.Tensor, support_SD: torch.Tensor, radii_S: torch.Tensor, batch_size: int = 1024
) -> float:
    """Fraction of queries inside at least one hypersphere (support sample, its k-NN radius)."""
    inside = [
        (distances <= radii_S.unsqueeze(0)).any(dim=1)
        for distances in _pairwise_distances(queries_QD, support_SD, batch_size)
    ]
    return torch.cat(inside).double().mean().item()


def precision_recall(
    real_ND: torch.Tensor | np.ndarray,
    generated_MD: torch.Tensor | np.ndarray,
    k: int = 3,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """k-NN precision (generated samples inside the real manifold) and recall (the converse).

    Each set's manifold is the union of balls around its samples, with radius the distance to the
    sample's k-th nearest neighbour in the same set. Distances are computed in float64.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    real = as_feature_matrix(real_ND, "real features", min_samples=k + 1)
    generated = as_feature_matrix(generated_MD, "generated features", min_samples=k + 1)
    check_same_dimension(real, generated)
    real_t = torch.from_numpy(real).to(device)
    generated_t = torch.from_numpy(generated).to(device)
    return {
        "precision": coverage(generated_t, real_t, knn_radii(real_t, k)),
        "recall": coverage(real_t, generated_t, knn_radii(generated_t, k)),
    }
