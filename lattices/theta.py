"""Exact theta-series coefficients (shell sizes) of Λ24 and E8 by dynamic programming over coordinates.

Both lattices are unions of cosets defined by congruences, so the number of vectors of a given
norm is a coefficient of a product of one-coordinate generating functions. For a residue class
x ≡ r (mod q) the one-coordinate series is Σ_x t^{x²} z^{x mod M} (t tracks the norm, z the
coordinate sum mod M); products multiply the t-parts and add the z-exponents mod M.

Λ24 (√8 coordinates, `lattices.leech`): for m ∈ {0, 1} and a Golay codeword c, the vectors are
x_i ≡ m + 2c_i (mod 4) with sum(x) ≡ 4m (mod 8). The count for a coset depends only on the weight
w of c, so a shell holds Σ_m Σ_w A_w [z^{4m}] f_{m+2}^w f_m^{24−w}, where A_w is the Golay weight
enumerator (computed by `golay.weight_enumerator`) and f_r the series of x ≡ r (mod 4) with M = 8.
E8 (doubled coordinates, `lattices.e8`): x_i ≡ m (mod 2) for all i, sum(x) ≡ 0 (mod 4), so a shell
holds Σ_m [z^0] g_m^8 with g_m the series of x ≡ m (mod 2) and M = 4. All counts are Python ints.
"""
from __future__ import annotations

import numpy as np

from lattices import e8, golay, leech

LEECH_NORM_PER_SHELL = 2 * leech.SCALE_SQUARED  # unimodular norm 2k ↔ √8-coordinate norm 16k
E8_NORM_PER_SHELL = 2 * e8.SCALE_SQUARED  # unimodular norm 2k ↔ doubled-coordinate norm 8k


def _coordinate_series(residue: int, modulus: int, sum_modulus: int, max_norm: int) -> np.ndarray:
    """(max_norm+1, sum_modulus) object array: how many x ≡ residue (mod modulus) have x² = n and
    x ≡ s (mod sum_modulus)."""
    series = np.zeros((max_norm + 1, sum_modulus), dtype=object)
    bound = int(np.floor(np.sqrt(max_norm)))
    for x in range(-bound, bound + 1):
        if (x - residue) % modulus == 0:
            series[x * x, x % sum_modulus] += 1
    return series


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Product of two series: norms add (truncated at max_norm), sums add mod sum_modulus."""
    length, sum_modulus = a.shape
    product = np.zeros_like(a)
    for s_a in range(sum_modulus):
        for s_b in range(sum_modulus):
            if a[:, s_a].any() and b[:, s_b].any():
                product[:, (s_a + s_b) % sum_modulus] += np.convolve(a[:, s_a], b[:, s_b])[:length]
    return product


def _powers(series: np.ndarray, exponent: int) -> list[np.ndarray]:
    """[series^0, series^1, ..., series^exponent]."""
    unit = np.zeros_like(series)
    unit[0, 0] = 1
    powers = [unit]
    for _ in range(exponent):
        powers.append(_multiply(powers[-1], series))
    return powers


def _check_shells(shells: int) -> int:
    if isinstance(shells, bool) or not isinstance(shells, (int, np.integer)):
        raise TypeError(f"shells must be an int, got {type(shells).__name__}")
    if shells <= 0:
        raise ValueError(f"shells must be positive, got {shells}")
    return int(shells)


def leech_theta(shells: int) -> list[int]:
    """Numbers of Λ24 vectors of unimodular norm 0, 2, 4, ..., 2(shells−1): [1, 0, 196560, ...]."""
    shells = _check_shells(shells)
    max_norm = LEECH_NORM_PER_SHELL * (shells - 1)
    weights = golay.weight_enumerator()
    total = np.zeros(max_norm + 1, dtype=object)
    for m in (0, 1):
        plain = _powers(_coordinate_series(m, 4, 8, max_norm), leech.DIM)
        marked = _powers(_coordinate_series(m + 2, 4, 8, max_norm), leech.DIM)
        for weight, multiplicity in weights.items():
            product = _multiply(marked[weight], plain[leech.DIM - weight])
            total += multiplicity * product[:, 4 * m]
    return [int(count) for count in total[::LEECH_NORM_PER_SHELL]]


def e8_theta(shells: int) -> list[int]:
    """Numbers of E8 vectors of unimodular norm 0, 2, 4, ..., 2(shells−1): [1, 240, 2160, ...]."""
    shells = _check_shells(shells)
    max_norm = E8_NORM_PER_SHELL * (shells - 1)
    total = np.zeros(max_norm + 1, dtype=object)
    for m in (0, 1):
        total += _powers(_coordinate_series(m, 2, 4, max_norm), e8.DIM)[e8.DIM][:, 0]
    return [int(count) for count in total[::E8_NORM_PER_SHELL]]
