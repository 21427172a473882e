"""Integer coordinates of D4, E6, E7, K12 and BW16: membership tests and exact minimal vectors.

Constructions (Conway & Sloane, Sphere Packings, Lattices and Groups (SPLAG), 3rd ed. 1999):
  D4   {x ∈ Z⁴ : Σx even} (ch. 4 §7.1); minimal vectors ±e_i ± e_j, norm 2.
  E6   {x ∈ E8 : x_1 = x_2 = x_3} in the doubled E8 coordinates of `lattices.e8` (8 coordinates,
       6-dimensional: the orthogonal complement of the A2 spanned by two roots, ch. 4 §8.3);
       minimal norm 8. E6 has no integer coordinates in 6 dimensions (det 3 is not a square).
  E7   Construction A of the [7, 3, 4] simplex code S: {x ∈ Z⁷ : x mod 2 ∈ S} (ch. 5 §2, ch. 4
       §8.2); minimal vectors: the 7·16 signed weight-4 codewords and ±2e_i, norm 4.
  K12  the Coxeter–Todd lattice over the Eisenstein integers E = Z[ω] with θ = ω − ω̄:
       {x ∈ E⁶ : x_i ≡ x_j (mod θ), Σx_i ≡ 0 (mod 3)} (ch. 4 §9; Conway & Sloane, "The
       Coxeter–Todd lattice, the Mitchell group, and related sphere packings", Math. Proc.
       Cambridge Philos. Soc. 93 (1983)). Each a + bω is written in the A2 coordinates
       a(1, −1, 0) + b(0, 1, −1) ∈ Z³ (norm 2|a + bω|²), so K12 lives in 18 integer coordinates;
       minimal norm 12 (4 in the usual scaling).
  BW16 the Barnes–Wall lattice by Construction B from the first-order Reed–Muller code RM(1, 4)
       [16, 5, 8]: {x ∈ Z¹⁶ : x mod 2 ∈ RM(1, 4), Σx ≡ 0 (mod 4)} (ch. 5 §3, ch. 4 §10);
       minimal vectors ±2e_i ± 2e_j and the weight-8 codewords with an even number of minus
       signs, norm 8.
Every minimal-vector list is built from these shapes and returned as sorted int64 rows.
"""
from __future__ import annotations

from itertools import combinations, product

import numpy as np

from lattices import e8
from lattices.integer_lattice import as_integer_vectors

SIMPLEX_7_3_GENERATOR = np.array([[1, 0, 0, 1, 1, 0, 1],
                                  [0, 1, 0, 1, 0, 1, 1],
                                  [0, 0, 1, 0, 1, 1, 1]], dtype=np.int64)
# A2 coordinates of 1 and ω: a + bω ↦ a·(1, −1, 0) + b·(0, 1, −1).
EISENSTEIN_ONE = np.array([1, -1, 0], dtype=np.int64)
EISENSTEIN_OMEGA = np.array([0, 1, -1], dtype=np.int64)
K12_EISENSTEIN_DIM = 6


def _sorted_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.unique(np.asarray(vectors, dtype=np.int64), axis=0)
    vectors.setflags(write=False)
    return vectors


def _signed_supports(supports: np.ndarray, value: int, length: int) -> np.ndarray:
    """All sign choices of `value` on each support (rows of positions): (len · 2^k, length)."""
    k = supports.shape[1]
    signs = 1 - 2 * ((np.arange(2**k)[:, None] >> np.arange(k)) & 1)
    vectors = np.zeros((supports.shape[0], 2**k, length), dtype=np.int64)
    rows = np.arange(supports.shape[0])[:, None, None]
    cols = np.arange(2**k)[None, :, None]
    vectors[rows, cols, supports[:, None, :]] = value * signs[None, :, :]
    return vectors.reshape(-1, length)


def _pairs(length: int) -> np.ndarray:
    return np.array(list(combinations(range(length), 2)), dtype=np.int64)


def _codewords(generator: np.ndarray) -> np.ndarray:
    messages = (np.arange(2 ** generator.shape[0])[:, None] >> np.arange(generator.shape[0])) & 1
    return (messages @ generator) % 2


def _reduces_to_codeword(vectors: np.ndarray, generator: np.ndarray) -> np.ndarray:
    """Which integer rows (..., n) are ≡ a codeword of the binary code spanned by `generator`."""
    weights = np.left_shift(np.int64(1), np.arange(generator.shape[1], dtype=np.int64))
    codeword_ints = np.sort(_codewords(generator) @ weights)
    residue_ints = np.mod(vectors, 2) @ weights
    return np.isin(residue_ints, codeword_ints)


# D4 ---------------------------------------------------------------------------------------------

def d4_is_member(x: np.ndarray) -> np.ndarray:
    """Which (..., 4) integer vectors have an even coordinate sum (lie in D4)."""
    return np.mod(as_integer_vectors(x, 4).sum(axis=-1), 2) == 0


def d4_minimal_vectors() -> np.ndarray:
    """The 24 vectors ±e_i ± e_j of D4 (norm 2)."""
    return _sorted_rows(_signed_supports(_pairs(4), 1, 4))


def d4_spanning_vectors() -> np.ndarray:
    """e_i ± e_j: generators of D4 by its definition."""
    return d4_minimal_vectors()


# E6 ---------------------------------------------------------------------------------------------

def e6_is_member(x: np.ndarray) -> np.ndarray:
    """Which (..., 8) integer vectors lie in E6 = {x ∈ E8 (doubled) : x_1 = x_2 = x_3}."""
    vectors = as_integer_vectors(x, e8.DIM)
    equal = (vectors[..., 0] == vectors[..., 1]) & (vectors[..., 1] == vectors[..., 2])
    return e8.is_member(vectors) & equal


def e6_minimal_vectors() -> np.ndarray:
    """The 72 E8 roots with x_1 = x_2 = x_3 (norm 8, doubled coordinates)."""
    roots = e8.roots()
    return _sorted_rows(roots[e6_is_member(roots)])


# E7 ---------------------------------------------------------------------------------------------

def e7_is_member(x: np.ndarray) -> np.ndarray:
    """Which (..., 7) integer vectors reduce mod 2 to a codeword of the [7, 3, 4] simplex code."""
    return _reduces_to_codeword(as_integer_vectors(x, 7), SIMPLEX_7_3_GENERATOR)


def e7_minimal_vectors() -> np.ndarray:
    """The 126 minimal vectors of E7 (norm 4): signed weight-4 simplex codewords and ±2e_i."""
    words = _codewords(SIMPLEX_7_3_GENERATOR)
    supports = np.array([np.nonzero(w)[0] for w in words if w.sum() == 4], dtype=np.int64)
    axes = np.arange(7)[:, None]
    return _sorted_rows(np.concatenate([_signed_supports(supports, 1, 7),
                                        _signed_supports(axes, 2, 7)]))


def e7_spanning_vectors() -> np.ndarray:
    """The simplex generator rows and 2e_i: generators of Construction A by its definition."""
    return np.concatenate([SIMPLEX_7_3_GENERATOR, 2 * np.eye(7, dtype=np.int64)])


# K12 --------------------------------------------------------------------------------------------

def _eisenstein(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, in the A2 plane) for (..., 18) vectors read as six a + bω in A2 coordinates."""
    triples = as_integer_vectors(x, 3 * K12_EISENSTEIN_DIM).reshape(*np.shape(x)[:-1], 6, 3)
    in_plane = (triples.sum(axis=-1) == 0).all(axis=-1)
    return triples[..., 0], -triples[..., 2], in_plane


def k12_is_member(x: np.ndarray) -> np.ndarray:
    """Which (..., 18) integer vectors lie in K12 (A2 coordinates of six Eisenstein integers)."""
    a, b, in_plane = _eisenstein(x)
    residues = np.mod(a + b, 3)  # a + bω ≡ a + b (mod θ), since ω ≡ 1
    same_residue = (residues == residues[..., :1]).all(axis=-1)
    sum_divisible = (np.mod(a.sum(axis=-1), 3) == 0) & (np.mod(b.sum(axis=-1), 3) == 0)
    return in_plane & same_residue & sum_divisible


def _to_a2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 6) Eisenstein coefficients a + bω → (..., 18) integer A2 coordinates."""
    return (a[..., None] * EISENSTEIN_ONE + b[..., None] * EISENSTEIN_OMEGA).reshape(
        *a.shape[:-1], 3 * K12_EISENSTEIN_DIM)


def k12_minimal_vectors() -> np.ndarray:
    """The 756 minimal vectors of K12 (norm 12 in A2 coordinates), found among the candidates
    whose Eisenstein entries have |x_i|² ≤ 3 (every minimal vector has Σ|x_i|² = 6 and its
    entries are all units, or θ-multiples of units on two positions): 270 + 486."""
    units = [(1, 0), (0, 1), (-1, -1), (-1, 0), (0, -1), (1, 1)]  # ±1, ±ω, ±ω²
    unit_a = np.array([u[0] for u in units])
    unit_b = np.array([u[1] for u in units])
    # all six entries units: 6^6 candidates
    choice = np.array(list(product(range(6), repeat=K12_EISENSTEIN_DIM)), dtype=np.int64)
    all_units = _to_a2(unit_a[choice], unit_b[choice])
    # two entries θ·unit (θ = ω − ω̄ = 1 + 2ω), the rest zero
    theta_a, theta_b = _theta_times(unit_a, unit_b)
    pairs = []
    for i, j in _pairs(K12_EISENSTEIN_DIM):
        for u, v in product(range(6), repeat=2):
            a = np.zeros(K12_EISENSTEIN_DIM, np.int64)
            b = np.zeros(K12_EISENSTEIN_DIM, np.int64)
            a[i], b[i], a[j], b[j] = theta_a[u], theta_b[u], theta_a[v], theta_b[v]
            pairs.append(_to_a2(a, b))
    candidates = np.concatenate([all_units, np.array(pairs)])
    members = candidates[k12_is_member(candidates)]
    return _sorted_rows(members[(members * members).sum(axis=1) == 12])


def _theta_times(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of θ·(a + bω) with θ = 1 + 2ω and ω² = −1 − ω."""
    return a - 2 * b, 2 * a - b


# BW16 -------------------------------------------------------------------------------------------

def reed_muller_1_4_generator() -> np.ndarray:
    """Generator of RM(1, 4): the all-ones word and the four coordinate functions on F₂⁴."""
    points = (np.arange(16)[:, None] >> np.arange(4)) & 1
    return np.concatenate([np.ones((1, 16), np.int64), points.T]).astype(np.int64)


def bw16_is_member(x: np.ndarray) -> np.ndarray:
    """Which (..., 16) integer vectors satisfy Construction B: x mod 2 ∈ RM(1, 4), Σx ≡ 0 mod 4."""
    vectors = as_integer_vectors(x, 16)
    in_code = _reduces_to_codeword(vectors, reed_muller_1_4_generator())
    return in_code & (np.mod(vectors.sum(axis=-1), 4) == 0)


def bw16_minimal_vectors() -> np.ndarray:
    """The 4,320 minimal vectors of BW16 (norm 8): 480 of shape (±2², 0¹⁴) and 3,840 signed
    weight-8 codewords with an even number of minus signs."""
    words = _codewords(reed_muller_1_4_generator())
    supports = np.array([np.nonzero(w)[0] for w in words if w.sum() == 8], dtype=np.int64)
    octads = _signed_supports(supports, 1, 16)
    octads = octads[np.mod(octads.sum(axis=1), 4) == 0]
    return _sorted_rows(np.concatenate([_signed_supports(_pairs(16), 2, 16), octads]))


def bw16_spanning_vectors() -> np.ndarray:
    """RM(1, 4) generator rows and 2(e_i ± e_j): generators of Construction B by its definition."""
    return np.concatenate([reed_muller_1_4_generator(), _signed_supports(_pairs(16), 2, 16)])
