"""Cube-grid codes projected to the sphere (BSQ, FSQ) and their exact nearest codeword by sorted magnitudes.

`GridCode(levels, dim)` is {x/‖x‖ : x ∈ G^dim, x ≠ 0} with the FSQ grid G of `levels` points per
coordinate (Mentzer et al., "Finite scalar quantization: VQ-VAE made simple", arXiv:2309.15505):
odd L: G = {−a, …, a}, a = (L − 1)/2; even L: G = {±1, ±3, …, ±(L − 1)} (half-integers doubled);
L = 2 is BSQ's {±1}^dim (Zhao et al., arXiv:2406.07548). The nearest codeword of a unit vector u
maximizes u·x/‖x‖. For a fixed multiset of magnitudes |x_i| the best x puts the largest
magnitudes on the largest |u_i| with the signs of u (rearrangement inequality), so the maximum
is over the non-increasing magnitude sequences m: max_m (sort↓|u|)·m/‖m‖, an exact search over
C(dim + M − 1, M − 1) sequences (M magnitudes, 0 included for odd L) instead of L^dim codewords.
Hand-written: no installed library quantizes to a projected grid exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from itertools import combinations_with_replacement

import numpy as np

MAX_SEQUENCES = 200_000


@dataclass(frozen=True)
class GridCode:
    """The projected FSQ grid with `levels` values per coordinate in `dim` dimensions."""

    levels: int
    dim: int

    def __post_init__(self) -> None:
        for value, name, minimum in ((self.levels, "levels", 2), (self.dim, "dim", 1)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < minimum:
                raise ValueError(f"{name} must be at least {minimum}, got {value}")
        if math.comb(self.dim + len(self.magnitudes) - 1, len(self.magnitudes) - 1) > MAX_SEQUENCES:
            raise ValueError(f"{self.levels} levels in {self.dim} dimensions need more than "
                             f"{MAX_SEQUENCES:,} magnitude sequences")

    @property
    def name(self) -> str:
        return f"bsq-{self.dim}" if self.levels == 2 else f"fsq-l{self.levels}-d{self.dim}"

    @property
    def magnitudes(self) -> tuple[int, ...]:
        """The coordinate magnitudes of the grid, largest first."""
        if self.levels % 2:
            return tuple(range((self.levels - 1) // 2, -1, -1))
        return tuple(range(self.levels - 1, 0, -2))

    @property
    def size(self) -> int:
        return self.levels**self.dim - (self.levels % 2)

    @property
    def bits(self) -> float:
        return math.log2(self.size)

    @cached_property
    def _sequences(self) -> np.ndarray:
        """Unit-normalized non-increasing magnitude sequences (S, dim), the zero sequence dropped."""
        rows = [sorted(choice, reverse=True)
                for choice in combinations_with_replacement(self.magnitudes, self.dim)]
        sequences = np.array(rows, dtype=np.float64)
        sequences = sequences[sequences.any(axis=1)]
        return sequences / np.linalg.norm(sequences, axis=1, keepdims=True)

    def best_cosines(self, u_BD: np.ndarray) -> np.ndarray:
        """Largest cosine between each unit row of u_BD and a codeword (exact search, float64)."""
        sorted_BD = -np.sort(-np.abs(u_BD), axis=1)
        return (sorted_BD @ self._sequences.T).max(axis=1)
