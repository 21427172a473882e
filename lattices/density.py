"""Exact packing and center densities of lattices from their Gram matrix and minimal norm (sympy)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from lattices.integer_lattice import check_integer_gram


@dataclass(frozen=True)
class Densities:
    """Packing density Δ = V_n ρ^n / √det and center density δ = ρ^n / √det, with packing radius
    ρ = √(min norm)/2 and V_n = π^{n/2}/Γ(n/2 + 1) the volume of the unit n-ball: exact sympy
    expressions and their float values."""

    packing: sympy.Expr
    center: sympy.Expr

    @property
    def packing_float(self) -> float:
        return float(self.packing.evalf(30))

    @property
    def center_float(self) -> float:
        return float(self.center.evalf(30))


def lattice_densities(gram: np.ndarray, min_norm: int) -> Densities:
    """Densities of the lattice with integer Gram matrix `gram` and minimal norm `min_norm`.

    Both are scale invariant, so any integer scaling of the lattice (e.g. √8 coordinates of Λ24
    with min norm 32) gives the same result. The determinant is exact (sympy, Bareiss).
    """
    array = check_integer_gram(gram)
    if isinstance(min_norm, bool) or not isinstance(min_norm, (int, np.integer)):
        raise TypeError(f"min_norm must be an int, got {type(min_norm).__name__}")
    if min_norm <= 0:
        raise ValueError(f"min_norm must be positive, got {min_norm}")
    n = array.shape[0]
    determinant = sympy.Matrix(array.tolist()).det(method="bareiss")
    if determinant <= 0:
        raise ValueError(f"gram must be positive definite (determinant {determinant})")
    radius = sympy.sqrt(sympy.Integer(int(min_norm))) / 2
    center = radius**n / sympy.sqrt(determinant)
    ball_volume = sympy.pi ** sympy.Rational(n, 2) / sympy.gamma(sympy.Rational(n, 2) + 1)
    return Densities(packing=ball_volume * center, center=center)
