"""The lattice zoo: D4, E6, E7, E8, K12, BW16 and Λ24 with generators, Gram matrices, minimal vectors, densities and theta series.

Coordinates and constructions are documented in `lattices.zoo.constructions` (D4, E6, E7, K12,
BW16), `lattices.e8` (doubled coordinates) and `lattices.leech` (√8 coordinates); references:
Conway & Sloane, Sphere Packings, Lattices and Groups, 3rd ed. (1999), ch. 4–5. Every lattice is
given in integer coordinates, scaled so that `norm_divisor` maps its norms to the usual scaling
(minimal norm 2 for the root lattices, 4 for K12, BW16 and Λ24).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy
from sympy.polys.matrices import DomainMatrix

from lattices import e8, leech, theta
from lattices.density import Densities, lattice_densities
from lattices.integer_lattice import row_basis
from lattices.zoo import constructions as c
from lattices.zoo.short_vectors import norm_counts


@dataclass(frozen=True, eq=False)
class Lattice:
    """One lattice of the zoo in integer coordinates (see the module docstring)."""

    name: str
    label: str
    rank: int
    coordinate_dim: int
    min_norm: int
    norm_divisor: int
    membership: Callable[[np.ndarray], np.ndarray]
    minimal: Callable[[], np.ndarray]
    spanning: Callable[[], np.ndarray]

    def is_member(self, x: np.ndarray) -> np.ndarray:
        """Boolean array over (..., coordinate_dim) integer vectors: which lie in the lattice."""
        return self.membership(x)

    def minimal_vectors(self) -> np.ndarray:
        """The minimal vectors (norm `min_norm`) as a read-only int64 (kissing number, coordinate_dim) array."""
        return _minimal_vectors(self.name)

    @property
    def kissing_number(self) -> int:
        """Number of minimal vectors."""
        return int(self.minimal_vectors().shape[0])

    def generator_matrix(self) -> np.ndarray:
        """Integer row basis (rank × coordinate_dim) of the lattice spanned by the defining generators."""
        return _generator(self.name)

    def gram_matrix(self) -> np.ndarray:
        """B Bᵀ of `generator_matrix` (integer, rank × rank)."""
        basis = self.generator_matrix()
        return basis @ basis.T

    def determinant(self, standard: bool = True) -> int:
        """Exact Gram determinant, in the usual scaling (norms / norm_divisor) unless standard=False."""
        determinant = sympy.Matrix(self.gram_matrix().tolist()).det(method="bareiss")
        if standard:
            determinant = determinant / sympy.Integer(self.norm_divisor) ** self.rank
        if not determinant.is_integer:
            raise AssertionError(f"{self.label}: determinant {determinant} is not an integer")
        return int(determinant)

    def densities(self) -> Densities:
        """Exact packing and center densities (`lattices.density`)."""
        return lattice_densities(self.gram_matrix(), self.min_norm)

    def theta_coefficients(self, max_norm: int) -> dict[int, int]:
        """{norm: number of vectors} for the norms 0 … max_norm (usual scaling) that occur: the
        dynamic program of `lattices.theta` for Λ24, Fincke–Pohst enumeration otherwise."""
        if self.name == "leech24":
            counts = theta.leech_theta(max_norm // 2 + 1)
            return {2 * shell: count for shell, count in enumerate(counts) if count}
        counts = norm_counts(_reduced_gram(self.name), max_norm)
        return {norm: count for norm, count in enumerate(counts) if count}


LATTICES: dict[str, Lattice] = {
    lattice.name: lattice for lattice in (
        Lattice("d4", "D4", 4, 4, 2, 1, c.d4_is_member, c.d4_minimal_vectors, c.d4_spanning_vectors),
        Lattice("e6", "E6", 6, 8, 8, 4, c.e6_is_member, c.e6_minimal_vectors, c.e6_minimal_vectors),
        Lattice("e7", "E7", 7, 7, 4, 2, c.e7_is_member, c.e7_minimal_vectors, c.e7_spanning_vectors),
        Lattice("e8", "E8", 8, 8, e8.ROOT_NORM, e8.SCALE_SQUARED, e8.is_member, e8.roots,
                e8.generator_matrix),
        Lattice("k12", "K12", 12, 18, 12, 3, c.k12_is_member, c.k12_minimal_vectors,
                c.k12_minimal_vectors),
        Lattice("bw16", "BW16", 16, 16, 8, 2, c.bw16_is_member, c.bw16_minimal_vectors,
                c.bw16_spanning_vectors),
        Lattice("leech24", "Λ24", 24, 24, leech.MIN_NORM, leech.SCALE_SQUARED, leech.is_member,
                leech.minimal_vectors, leech.generator_matrix),
    )
}
NAMES = tuple(LATTICES)


def lattice(name: str) -> Lattice:
    """The zoo lattice called `name` (one of NAMES)."""
    if not isinstance(name, str):
        raise TypeError(f"lattice name must be a string, got {type(name).__name__}")
    if name not in LATTICES:
        raise ValueError(f"unknown lattice {name!r}; expected one of {', '.join(NAMES)}")
    return LATTICES[name]


def minimal_vectors(name: str) -> np.ndarray:
    """Minimal vectors of the lattice `name` as an integer (kissing number, coordinates) array, all
    rows of equal norm: d4 (24 × 4), e6 (72 × 8, in E8 coordinates), e7 (126 × 7), e8 (240 × 8),
    k12 (756 × 18, A2 coordinates of E⁶), bw16 (4,320 × 16), leech24 (196,560 × 24)."""
    return lattice(name).minimal_vectors()


@lru_cache(maxsize=None)
def _minimal_vectors(name: str) -> np.ndarray:
    entry = LATTICES[name]
    vectors = np.asarray(entry.minimal(), dtype=np.int64)
    vectors.setflags(write=False)
    return vectors


@lru_cache(maxsize=None)
def _generator(name: str) -> np.ndarray:
    entry = LATTICES[name]
    basis = row_basis(np.asarray(entry.spanning(), dtype=np.int64))
    if basis.shape != (entry.rank, entry.coordinate_dim):
        raise AssertionError(f"{entry.label}: basis shape {basis.shape}, expected rank {entry.rank}")
    basis.setflags(write=False)
    return basis


@lru_cache(maxsize=None)
def _reduced_gram(name: str) -> np.ndarray:
    """Gram matrix in the usual scaling of an LLL-reduced basis (sympy), for enumeration."""
    entry = LATTICES[name]
    matrix = DomainMatrix.from_Matrix(sympy.Matrix(_generator(name).tolist())).convert_to(sympy.ZZ)
    reduced = np.array(matrix.lll().to_Matrix().tolist(), dtype=np.int64)
    gram = reduced @ reduced.T
    if (gram % entry.norm_divisor).any():
        raise AssertionError(f"{entry.label}: Gram / {entry.norm_divisor} is not integral")
    return gram // entry.norm_divisor
