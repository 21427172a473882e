"""The E8 lattice in doubled integer coordinates: membership, shells (roots first), generator, nearest point and root.

E8 = D8 ∪ (D8 + ½·1) (the "even coordinate system", Conway & Sloane SPLAG ch. 4 §8.1) multiplied
by 2: x ∈ Z^8 lies in E8 iff all x_i have the same parity and sum(x) ≡ 0 (mod 4). Roots have
norm² 8 (2 after dividing by 4); x·y / 4 is the inner product of the unimodular lattice.
Shells are listed in lexicographic order of their coordinate tuples (ascending).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from lattices.decoder_input import SCORE_LIMIT, as_float_points
from lattices.e8_decoder import largest_inner_product, nearest_point
from lattices.integer_lattice import as_integer_vectors, row_basis

__all__ = ["DIM", "NUM_ROOTS", "NUM_SECOND_SHELL", "ROOT_NORM", "SCALE_SQUARED", "generator_matrix", "is_member",
           "nearest_point", "nearest_root", "roots", "second_shell", "vectors_of_norm"]

DIM = 8
ROOT_NORM = 8
SCALE_SQUARED = 4  # x·y / 4 is the inner product in the unimodular normalisation
NUM_ROOTS = 240
NUM_SECOND_SHELL = 2160


def is_member(x: np.ndarray) -> np.ndarray:
    """Boolean array over (..., 8) integer vectors: which lie in E8 (doubled coordinates)."""
    vectors = as_integer_vectors(x, DIM)
    same_parity = ((vectors & 1) == (vectors[..., :1] & 1)).all(axis=-1)
    return same_parity & (np.mod(vectors.sum(axis=-1), 4) == 0)


def vectors_of_norm(norm: int) -> np.ndarray:
    """All E8 vectors with norm² `norm` (doubled coordinates) as an (n, 8) int64 array, sorted
    lexicographically. Built coordinate by coordinate from prefixes whose norm stays ≤ `norm`."""
    if isinstance(norm, bool) or not isinstance(norm, (int, np.integer)):
        raise TypeError(f"norm must be an int, got {type(norm).__name__}")
    if norm < 0:
        raise ValueError(f"norm must be non-negative, got {norm}")
    bound = int(np.floor(np.sqrt(norm)))
    candidates = np.arange(-bound, bound + 1, dtype=np.int64)
    shells = []
    for parity in (0, 1):
        values = candidates[(candidates & 1) == parity]
        prefixes = np.zeros((1, 0), dtype=np.int64)
        for _ in range(DIM):
            grown = np.concatenate([
                np.repeat(prefixes, values.size, axis=0),
                np.tile(values, prefixes.shape[0])[:, None],
            ], axis=1)
            prefixes = grown[(grown * grown).sum(axis=1) <= norm]
        shells.append(prefixes[(prefixes * prefixes).sum(axis=1) == norm])
    vectors = np.concatenate(shells)
    vectors = vectors[is_member(vectors)]
    return vectors[np.lexsort(vectors.T[::-1])]


@lru_cache(maxsize=1)
def roots() -> np.ndarray:
    """The 240 roots (norm² 8) as a (240, 8) int64 array in lexicographic order."""
    vectors = vectors_of_norm(ROOT_NORM)
    vectors.setflags(write=False)
    return vectors


@lru_cache(maxsize=1)
def second_shell() -> np.ndarray:
    """The 2,160 vectors of norm² 16 as a (2160, 8) int64 array in lexicographic order."""
    vectors = vectors_of_norm(2 * ROOT_NORM)
    vectors.setflags(write=False)
    return vectors


@lru_cache(maxsize=1)
def generator_matrix() -> np.ndarray:
    """An 8×8 upper-triangular integer generator of E8 (rows are basis vectors, doubled coordinates).

    Computed from the definition as the integer row basis of the lattice spanned by the roots
    (which generate E8). Gram = B Bᵀ; Gram / 4 is unimodular and even.
    """
    basis = row_basis(roots())
    if basis.shape != (DIM, DIM):
        raise AssertionError(f"expected an 8×8 basis, got {basis.shape}")
    basis.setflags(write=False)
    return basis



def nearest_root(x: np.ndarray) -> np.ndarray:
    """Index into `roots()` of the root with the largest inner product with each float (..., 8)
    vector (the nearest root on the sphere), as int64 (...); ties go to the lowest index.
    Entries above 2^1000 in magnitude raise ValueError (the scores would overflow); the zero
    vector ties all roots and gets root 0."""
    points, leading = as_float_points(x, DIM, max_abs=SCORE_LIMIT)
    out = np.empty(points.shape[0], dtype=np.int64)
    largest_inner_product(points, np.ascontiguousarray(roots(), dtype=np.float64), out)
    return out.reshape(leading)
