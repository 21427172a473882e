"""Inception Score (Salimans et al. 2016) from classifier logits."""
from __future__ import annotations

import numpy as np
import torch

from models.metrics.feature_checks import as_feature_matrix


def inception_score(logits_NK: torch.Tensor | np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Mean and standard deviation over `splits` equal parts of exp(E_x KL(p(y|x) || p(y)))."""
    if splits < 1:
        raise ValueError(f"splits must be at least 1, got {splits}")
    logits = torch.from_numpy(as_feature_matrix(logits_NK, "logits", min_samples=splits))
    log_p_yx = torch.log_softmax(logits, dim=1)
    scores = []
    for part in torch.tensor_split(log_p_yx, splits):
        log_p_y = torch.logsumexp(part, dim=0) - np.log(part.shape[0])
        kl = (part.exp() * (part - log_p_y)).sum(dim=1).mean()
        scores.append(kl.exp().item())
    return float(np.mean(scores)), float(np.std(scores))
