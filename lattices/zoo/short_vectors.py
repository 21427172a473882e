"""Counting lattice vectors by norm (theta-series coefficients) with Fincke–Pohst enumeration in numba.

Fincke & Pohst, "Improved methods for calculating vectors of short length in a lattice",
Math. Comp. 44 (1985) 463–471: with the Cholesky form Q(x) = Σ_i q_ii (x_i + Σ_{j>i} q_ij x_j)²
of an integer Gram matrix, the coordinates are chosen from the last to the first, each inside the
interval that keeps the partial sum ≤ the bound. Float pruning only decides which leaves are
visited (with a small slack); every leaf's norm is then computed exactly as the integer xᵀGx, so
the counts are exact. Hand-written because no installed library enumerates lattice vectors
(PARI's `qfminim` through cypari is used only as an independent cross-check in the tests).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from lattices.integer_lattice import check_integer_gram

PRUNING_SLACK = 1e-7  # relative slack of the float bound; leaves are filtered by exact norms


@numba.njit(cache=True)
def _count_norms(gram, q, bound):  # pragma: no cover - compiled by numba
    """counts[k] = number of integer x with xᵀ gram x = k, for k ≤ bound (int64)."""
    n = gram.shape[0]
    counts = np.zeros(bound + 1, np.int64)
    limit = bound * (1.0 + PRUNING_SLACK) + PRUNING_SLACK
    x = np.zeros(n, np.int64)
    centre = np.zeros(n)
    remaining = np.zeros(n)
    high = np.zeros(n, np.int64)
    level = n - 1
    remaining[level] = limit
    radius = math.sqrt(limit / q[level, level])
    x[level] = math.ceil(-radius)
    high[level] = math.floor(radius)
    while True:
        if x[level] > high[level]:
            level += 1
            if level == n:
                break
            x[level] += 1
            continue
        offset = x[level] - centre[level]
        rest = remaining[level] - q[level, level] * offset * offset
        if level == 0:
            norm = 0
            for i in range(n):
                row = 0
                for j in range(n):
                    row += gram[i, j] * x[j]
                norm += row * x[i]
            if norm <= bound:
                counts[norm] += 1
            x[0] += 1
            continue
        level -= 1
        remaining[level] = rest
        c = 0.0
        for j in range(level + 1, n):
            c -= q[level, j] * x[j]
        centre[level] = c
        radius = math.sqrt(max(rest, 0.0) / q[level, level])
        x[level] = math.ceil(c - radius)
        high[level] = math.floor(c + radius)
    return counts


def norm_counts(gram: np.ndarray, max_norm: int) -> list[int]:
    """How many lattice vectors have norm 0, 1, ..., max_norm, for the lattice with positive definite
    integer Gram matrix `gram` (Fincke–Pohst, exact counts)."""
    array = check_integer_gram(gram)
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, np.integer)):
        raise TypeError(f"max_norm must be an int, got {type(max_norm).__name__}")
    if max_norm < 0:
        raise ValueError(f"max_norm must be non-negative, got {max_norm}")
    try:
        upper = np.linalg.cholesky(array.astype(np.float64)).T  # gram = upperᵀ upper
    except np.linalg.LinAlgError as error:
        raise ValueError("gram must be positive definite") from error
    diagonal = np.diag(upper)
    q = upper / diagonal[:, None]
    q[np.diag_indices_from(q)] = diagonal**2
    return [int(c) for c in _count_norms(array.astype(np.int64), q, int(max_norm))]
