"""Spherical codes from the zoo: first shells in their own dimension, and the exact δ_min of Λ24 shells 1 + 2.

A first shell is a `Codebook` of its normalized minimal vectors. D4, E7, E8, BW16 and Λ24 have
integer coordinates in their own dimension (exact integer codebooks); E6 (8 coordinates) and K12
(18 coordinates) are rotated into R^6 and R^12 by an orthonormal basis of their span (float
codebooks, same inner products); their exact pair statistics come from the integer vectors.

Λ24 shells 1 and 2 (unimodular norms 4 and 6: 196,560 + 16,773,120 vectors) as one normalized
code of 16,969,680 points: distinct lattice vectors x ≠ y satisfy |x − y|² ≥ 4, so
x·y ≤ (|x|² + |y|² − 4)/2, with equality exactly when x − y is a minimal vector. For each pair of
shells the bound is attained (a witness y = x + v with v minimal and x·v = (|y|² − |x|² − 4)/2 is
found among the minimal vectors), so the largest cosine is max over shell pairs of
((a + b − 4)/2)/√(ab): 1/2 (shells 1–1), 3/√24 (1–2), 2/3 (2–2); exact in sympy.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from lattices import leech
from lattices.codebook import Codebook
from lattices.zoo import lattice

SHELL_CODE_NAMES = {"d4": "d4-shell1", "e6": "e6-shell1", "e7": "e7-shell1", "e8": "e8-roots",
                    "k12": "k12-shell1", "bw16": "bw16-shell1", "leech24": "leech"}
LEECH_UNIMODULAR_MIN_NORM = 4


def shell_codebook(name: str) -> Codebook:
    """The first shell of the zoo lattice `name` as a spherical code in the lattice's own dimension."""
    entry = lattice(name)
    vectors = entry.minimal_vectors()
    code_name = SHELL_CODE_NAMES[name]
    if entry.rank == entry.coordinate_dim:
        return Codebook.from_integer(code_name, vectors)
    basis, _ = np.linalg.qr(entry.generator_matrix().T.astype(np.float64))  # (coords, rank)
    return Codebook.from_float(code_name, vectors.astype(np.float64) @ basis)


@dataclass(frozen=True)
class ShellUnionMaxCosine:
    """Largest cosine of a union of Λ24 shells: exact value, the shell pair attaining it, witnesses."""

    max_cosine: sympy.Expr
    shells: tuple[int, int]  # unimodular norms of the two shells
    witness: tuple[np.ndarray, np.ndarray]  # √8 coordinates

    @property
    def delta_min(self) -> sympy.Expr:
        return sympy.sqrt(2 - 2 * self.max_cosine)


def _second_shell_vector() -> np.ndarray:
    """A vector of unimodular norm 6: v + w for minimal vectors with v·w = −1 (√8 coordinates)."""
    minimal = leech.minimal_vectors().astype(np.int64)
    partner = int(np.nonzero(minimal @ minimal[0] == -leech.SCALE_SQUARED)[0][0])
    return minimal[0] + minimal[partner]


@lru_cache(maxsize=1)
def leech_shells12_max_cosine() -> ShellUnionMaxCosine:
    """Exact largest cosine between distinct points of the normalized Λ24 shells 1 and 2 (see the
    module docstring): 2/3, so δ_min = √(2/3); every bound is checked by an explicit witness."""
    minimal = leech.minimal_vectors().astype(np.int64)
    representatives = {4: minimal[0], 6: _second_shell_vector()}
    best = None
    for a, b in ((4, 4), (4, 6), (6, 6)):
        x = representatives[a]
        target = (b - a - LEECH_UNIMODULAR_MIN_NORM) // 2 * leech.SCALE_SQUARED
        hits = np.nonzero(minimal @ x == target)[0]
        if hits.size == 0:
            raise AssertionError(f"no witness for shells {a}, {b}")
        y = x + minimal[hits[0]]
        if int(y @ y) != b * leech.SCALE_SQUARED or not leech.is_member(y):
            raise AssertionError(f"witness for shells {a}, {b} is not in shell {b}")
        inner = sympy.Rational(int(x @ y), leech.SCALE_SQUARED)
        if inner != sympy.Rational(a + b - LEECH_UNIMODULAR_MIN_NORM, 2):
            raise AssertionError("witness does not attain the bound")
        cosine = sympy.nsimplify(inner / sympy.sqrt(a * b))
        if best is None or cosine > best.max_cosine:
            best = ShellUnionMaxCosine(cosine, (a, b), (x, y))
    return best
