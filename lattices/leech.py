"""The Leech lattice Λ24 in √8-scaled integer coordinates: membership, generator, minimal vectors.

Coordinates follow Conway & Sloane, SPLAG ch. 4 §11, multiplied by √8: a vector x ∈ Z^24 lies in
Λ24 iff, for some m ∈ {0, 1}, every x_i ≡ m (mod 2), sum(x) ≡ 4m (mod 8), and the set
{i : x_i ≡ m + 2 (mod 4)} is the support of a Golay codeword. The minimal norm is 32 (norm 4 after
dividing by 8). The canonical order of the 196,560 minimal vectors is documented in
docs/architecture.md and implemented by `minimal_vectors`, `vector_to_index`, `index_to_vector`.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np

from lattices import golay
from lattices.integer_lattice import as_integer_vectors, row_basis

DIM = 24
MIN_NORM = 32
MAX_MINIMAL_COORDINATE = 4  # the largest |x_i| of a minimal vector (pair shape ±4²0²²)
SCALE_SQUARED = 8  # x·y / 8 is the inner product in the unimodular normalisation

SHAPE_OCTAD_COUNT = 759 * 128  # (±2^8, 0^16): 97,152
SHAPE_ODD_COUNT = 4096 * 24  # (∓3, ±1^23): 98,304
SHAPE_PAIR_COUNT = 276 * 4  # (±4^2, 0^22): 1,104
SHAPE_OFFSETS = (0, SHAPE_OCTAD_COUNT, SHAPE_OCTAD_COUNT + SHAPE_ODD_COUNT)
NUM_MINIMAL = SHAPE_OCTAD_COUNT + SHAPE_ODD_COUNT + SHAPE_PAIR_COUNT  # 196,560
SHAPE_NAMES = ("octad", "odd", "pair")


def is_member(x: np.ndarray) -> np.ndarray:
    """Boolean array over (..., 24) integer vectors: which lie in Λ24 (√8 coordinates)."""
    vectors = as_integer_vectors(x, DIM)
    parity = vectors[..., :1] & 1
    same_parity = ((vectors & 1) == parity).all(axis=-1)
    parity = parity[..., 0]
    sum_ok = np.mod(vectors.sum(axis=-1), 8) == 4 * parity
    # For m = 0 the marked positions are x ≡ 2 (mod 4); for m = 1 they are x ≡ 3 (mod 4).
    marked = (np.mod(vectors, 4) == (2 + parity)[..., None]).astype(np.uint8)
    code_ok = golay.is_codeword(marked)
    return same_parity & sum_ok & code_ok


@lru_cache(maxsize=1)
def _pairs() -> np.ndarray:
    pairs = np.array(list(combinations(range(DIM), 2)), dtype=np.int64)
    pairs.setflags(write=False)
    return pairs


def _octad_shape_vectors() -> np.ndarray:
    octads = golay.octads()
    even_masks = np.arange(0, 256, dtype=np.int64)
    even_masks = even_masks[np.bitwise_count(even_masks.astype(np.uint8)) % 2 == 0]
    # rank of an even-popcount mask m among even masks is m >> 1 (one of each pair 2k, 2k+1)
    assert np.array_equal(even_masks >> 1, np.arange(128))
    signs = 1 - 2 * ((even_masks[:, None] >> np.arange(8)) & 1)  # (128, 8)
    vectors = np.zeros((octads.shape[0], 128, DIM), dtype=np.int64)
    rows = np.arange(octads.shape[0])[:, None, None]
    cols = np.arange(128)[None, :, None]
    vectors[rows, cols, octads[:, None, :]] = 2 * signs[None, :, :]
    return vectors.reshape(-1, DIM)


def _odd_shape_vectors() -> np.ndarray:
    code_signs = 1 - 2 * golay.codewords().astype(np.int64)  # (4096, 24)
    template = np.ones((DIM, DIM), dtype=np.int64) - 4 * np.eye(DIM, dtype=np.int64)  # row j: -3 at j
    return (code_signs[:, None, :] * template[None, :, :]).reshape(-1, DIM)


def _pair_shape_vectors() -> np.ndarray:
    pairs = _pairs()
    sign_bits = np.arange(4)
    vectors = np.zeros((pairs.shape[0], 4, DIM), dtype=np.int64)
    rows = np.arange(pairs.shape[0])[:, None]
    cols = sign_bits[None, :]
    vectors[rows, cols, pairs[:, None, 0]] = 4 * (1 - 2 * (sign_bits & 1))[None, :]
    vectors[rows, cols, pairs[:, None, 1]] = 4 * (1 - 2 * ((sign_bits >> 1) & 1))[None, :]
    return vectors.reshape(-1, DIM)


@lru_cache(maxsize=1)
def minimal_vectors() -> np.ndarray:
    """The 196,560 minimal vectors (norm² 32) as a (196560, 24) int8 array in canonical order."""
    vectors = np.concatenate(
        [_octad_shape_vectors(), _odd_shape_vectors(), _pair_shape_vectors()]
    ).astype(np.int8)
    vectors.setflags(write=False)
    return vectors


def shape_of_index(indices: np.ndarray) -> np.ndarray:
    """Shape id per canonical index: 0 octad (±2^8), 1 odd (∓3, ±1^23), 2 pair (±4^2)."""
    indices = _check_indices(indices)
    return np.searchsorted(np.asarray(SHAPE_OFFSETS[1:]), indices, side="right")


def _check_indices(indices: np.ndarray) -> np.ndarray:
    array = np.asarray(indices)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"indices must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= NUM_MINIMAL):
        raise ValueError(f"indices must lie in [0, {NUM_MINIMAL}), got range "
                         f"[{array.min()}, {array.max()}]")
    return array.astype(np.int64)


def index_to_vector(indices: np.ndarray) -> np.ndarray:
    """Minimal vectors (..., 24) int64 for canonical indices (...)."""
    return minimal_vectors()[_check_indices(indices)].astype(np.int64)


def vector_to_index(vectors: np.ndarray) -> np.ndarray:
    """Canonical indices (...) of minimal vectors (..., 24); anything else raises ValueError.

    Computed from the structure (no table lookup): octad shape from the support and the sign
    mask, odd shape from the sign pattern and the ±3 position, pair shape from the pair and signs.
    """
    # the range first: beyond it the int64 norm below could wrap around to 32
    x = as_integer_vectors(vectors, DIM, "vectors", max_abs=MAX_MINIMAL_COORDINATE)
    flat = x.reshape(-1, DIM)
    if flat.shape[0] == 0:
        return np.zeros(x.shape[:-1], dtype=np.int64)
    valid = (np.einsum("ij,ij->i", flat, flat) == MIN_NORM) & is_member(flat)
    if not valid.all():
        raise ValueError(f"{int((~valid).sum())} of the given vectors are not minimal vectors of Λ24")
    result = np.empty(flat.shape[0], dtype=np.int64)
    nonzero = np.count_nonzero(flat, axis=1)
    octad_rows = np.nonzero(nonzero == 8)[0]
    odd_rows = np.nonzero(nonzero == DIM)[0]
    pair_rows = np.nonzero(nonzero == 2)[0]

    if octad_rows.size:
        block = flat[octad_rows]
        support = (block != 0).astype(np.uint8)
        octad_index = np.searchsorted(golay.octad_codeword_indices(), golay.index_of(support))
        positions = np.nonzero(block)[1].reshape(-1, 8)
        negative = np.take_along_axis(block, positions, axis=1) < 0
        mask = (negative.astype(np.int64) << np.arange(8)).sum(axis=1)
        result[octad_rows] = 128 * octad_index + (mask >> 1)

    if odd_rows.size:
        block = flat[odd_rows]
        three_position = np.argmax(np.abs(block), axis=1)
        word = (block < 0).astype(np.uint8)
        word[np.arange(block.shape[0]), three_position] ^= 1  # the -3 sits where the sign is +
        result[odd_rows] = SHAPE_OFFSETS[1] + DIM * golay.index_of(word) + three_position

    if pair_rows.size:
        block = flat[pair_rows]
        positions = np.nonzero(block)[1].reshape(-1, 2)
        a, b = positions[:, 0], positions[:, 1]
        pair_index = a * (2 * DIM - a - 1) // 2 + (b - a - 1)
        signs = (block[np.arange(block.shape[0]), a] < 0) + 2 * (block[np.arange(block.shape[0]), b] < 0)
        result[pair_rows] = SHAPE_OFFSETS[2] + 4 * pair_index + signs
    return result.reshape(x.shape[:-1])


@lru_cache(maxsize=1)
def generator_matrix() -> np.ndarray:
    """A 24×24 upper-triangular integer generator of Λ24 (rows are basis vectors, √8 coordinates).

    Computed from the definition: the integer row basis of the lattice spanned by the minimal
    vectors of the three shapes (which generate Λ24). Gram = B Bᵀ; Gram / 8 is unimodular and even.
    """
    spanning = np.concatenate([
        2 * golay.generator_matrix().astype(np.int64),  # 2·c for a Golay basis (octad-type vectors)
        _pair_shape_vectors()[:: 4],  # (4, 4, 0, ...) pairs
        _pair_shape_vectors()[1:: 4],  # (-4, 4, 0, ...) pairs
        _odd_shape_vectors()[:1],  # one odd vector
    ])
    basis = row_basis(spanning)
    if basis.shape != (DIM, DIM):
        raise AssertionError(f"expected a 24×24 basis, got {basis.shape}")
    basis.setflags(write=False)
    return basis


def nearest_point(x: np.ndarray) -> np.ndarray:
    """Nearest Λ24 point(s) to float (..., 24) vectors as int64: `lattices.leech_decoder.nearest_point`."""
    from lattices.leech_decoder import nearest_point as decode

    return decode(x)
