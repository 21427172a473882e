"""Exact nearest Λ24 minimal vector (largest inner product) through the Golay-code structure, in numba.

`nearest_minimal(z)` returns, for each z ∈ R^24, the canonical index (docs/architecture.md) of the
minimal vector x maximising the score B(x, z), the inner product evaluated in float64 in coordinate
order; among equal scores the lowest canonical index wins. All minimal vectors have norm² 32, so
this is also the minimal vector nearest to z/‖z‖. Precisely,

    B(x, z) = (((p_0 + p_1) + p_2) + ... + p_23), every addition rounded to float64,
    p_i = x_i·z_i with z_i converted to float64: exact when x_i ∈ {0, ±1, ±2, ±4} or z is float32,
          and ±fl(3·z_i), the correctly rounded product, when x_i = ±3 and z is float64.

Algorithm (docs/search.md): a fast float64 pass finds the best and the runner-up *approximate*
score per token from the three shapes — (±4², 0²²) from the largest |z_i|, (±2⁸, 0¹⁶) per octad from
the octad's |z| sum, sign parity and smallest |z_i|, (∓3, ±1²³) per Golay codeword from the
correlation Σ s_i z_i, updated along a Gray code of the message bits, minus 4·min_j s_j z_j. Groups
whose cheap upper bound lies below the running best minus the error margin are skipped. When the
runner-up lies within the rigorous margin `_margin` of the best, the token is re-solved by an exact
pass that evaluates B for every minimal vector whose approximate score reaches best − margin.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from lattices import golay
from lattices.decoder_input import SCORE_LIMIT
from lattices.leech_search_kernels import DIM, NUM_CODEWORDS, search_all



class SearchTables(NamedTuple):
    """Golay-code tables used by the search (all int64/float64, read-only)."""

    octad_positions: np.ndarray  # (759, 8) ascending positions of each octad, canonical order
    codeword_masks: np.ndarray  # (4096,) codeword bits sum(c_i << i), canonical order
    gray_masks: np.ndarray  # (4096,) codeword bits at Gray-code step k
    gray_canonical: np.ndarray  # (4096,) canonical position of the codeword at step k
    gray_positions: np.ndarray  # (4096, 8) support of the generator row flipped at step k (row 0 unused)
    gray_coefficients: np.ndarray  # (4096, 8) -2·s_i before the flip: Δcorrelation = Σ coef·z_i


@lru_cache(maxsize=1)
def search_tables() -> SearchTables:
    """Build the octad and Gray-code tables from `lattices.golay` (every generator row has weight 8)."""
    generator = golay.generator_matrix().astype(np.int64)
    row_weights = generator.sum(axis=1)
    if not (row_weights == 8).all():
        raise AssertionError(f"expected weight-8 generator rows, got {row_weights}")
    row_masks = (generator << np.arange(DIM)).sum(axis=1)
    steps = np.arange(NUM_CODEWORDS)
    gray = steps ^ (steps >> 1)
    gray_masks = np.zeros(NUM_CODEWORDS, dtype=np.int64)
    for row in range(golay.DIMENSION):
        gray_masks ^= np.where((gray >> row) & 1, row_masks[row], 0)
    codeword_masks = golay.codeword_ints().astype(np.int64)
    gray_canonical = np.searchsorted(codeword_masks, gray_masks)
    if not np.array_equal(codeword_masks[gray_canonical], gray_masks):
        raise AssertionError("Gray-code walk left the Golay code")
    gray_positions = np.zeros((NUM_CODEWORDS, 8), dtype=np.int64)
    gray_coefficients = np.zeros((NUM_CODEWORDS, 8), dtype=np.float64)
    for step in range(1, NUM_CODEWORDS):
        row = (step & -step).bit_length() - 1  # the message bit that changes at this step
        positions = np.nonzero(generator[row])[0]
        previous_bits = (gray_masks[step - 1] >> positions) & 1
        gray_positions[step] = positions
        gray_coefficients[step] = -2.0 * (1 - 2 * previous_bits)
    tables = SearchTables(
        np.ascontiguousarray(golay.octads(), dtype=np.int64), codeword_masks, gray_masks,
        gray_canonical.astype(np.int64), gray_positions, gray_coefficients,
    )
    for array in tables:
        array.setflags(write=False)
    return tables


def validate_input(z: np.ndarray) -> np.ndarray:
    """Check a (..., 24) float32/float64 array for the search; returns it as a C-contiguous array."""
    array = np.asarray(z)
    if array.dtype not in (np.float32, np.float64):
        raise TypeError(f"z must be a float32 or float64 array, got dtype {array.dtype}")
    if array.ndim == 0 or array.shape[-1] != DIM:
        raise ValueError(f"z must have shape (..., {DIM}), got {array.shape}")
    if array.size == 0:
        raise ValueError(f"z is empty (shape {array.shape})")
    if not np.isfinite(array).all():
        raise ValueError("z contains non-finite values (nan or inf)")
    if array.dtype == np.float64 and np.abs(array).max() > SCORE_LIMIT:
        raise ValueError("float64 z has entries above 2^1000 in magnitude; rescale it (scores would overflow)")
    return np.ascontiguousarray(array)


def nearest_minimal(z: np.ndarray) -> np.ndarray:
    """Canonical indices (int64, shape z.shape[:-1]) of the minimal vectors of Λ24 with the largest
    float64 inner product B(x, z) with each z (defined in the module docstring); ties -> lowest index.

    z: (..., 24) float32 or float64, finite (float64 entries at most 2^1000 in magnitude). The zero
    vector scores 0 against every minimal vector, so it maps to index 0. Parallel over tokens
    (numba prange); float32 input is widened to float64 first (exactly).
    """
    array = validate_input(z)
    flat_N24 = array.reshape(-1, DIM).astype(np.float64, copy=False)
    indices_N = search_all(flat_N24, *search_tables())
    return indices_N.reshape(array.shape[:-1])
