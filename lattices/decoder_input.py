"""Validation of the float point arrays given to the lattice decoders and searches, and their magnitude bounds."""
from __future__ import annotations

import numpy as np

# Largest |x_i| the nearest-point decoders accept: below it float64 still resolves the rounding
# boundaries they compare, and the int64 lattice coordinates they return cannot overflow.
POINT_LIMIT = 2.0**52
# Largest |x_i| of float64 input to the inner-product searches (E8 roots, Λ24 minimal vectors):
# sums of 24 products with integer coordinates of magnitude ≤ 4 then stay far below float64's range.
SCORE_LIMIT = 2.0**1000


def as_float_points(x: np.ndarray, dim: int, name: str = "x",
                    max_abs: float | None = None) -> tuple[np.ndarray, tuple[int, ...]]:
    """Check a non-empty finite float (..., dim) array (entries at most `max_abs` in magnitude when
    given); return it as C-contiguous float64 (N, dim) together with its leading shape (...)."""
    array = np.asarray(x)
    if array.ndim == 0 or array.shape[-1] != dim:
        raise ValueError(f"{name} must have last dimension {dim}, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    if max_abs is not None and float(np.abs(array).max()) > max_abs:  # compared in float64
        raise ValueError(f"{name} has entries above {max_abs:g} in magnitude, beyond what this "
                         "decoder's float64 arithmetic (and int64 output) resolves")
    flat = np.ascontiguousarray(array.reshape(-1, dim), dtype=np.float64)
    return flat, array.shape[:-1]
