"""The extended binary Golay code [24, 12, 8]: generator, codewords, octads, weight enumerator, decoders."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from lattices.decoder_input import as_float_points

LENGTH = 24
DIMENSION = 12
MIN_DISTANCE = 8
_QR_MODULUS = 23


def _gf2_row_reduce(rows: np.ndarray) -> np.ndarray:
    """Reduced row echelon form over GF(2); returns only the non-zero rows."""
    matrix = rows.copy() % 2
    rank = 0
    for column in range(matrix.shape[1]):
        pivots = np.nonzero(matrix[rank:, column])[0]
        if pivots.size == 0:
            continue
        pivot = rank + pivots[0]
        matrix[[rank, pivot]] = matrix[[pivot, rank]]
        others = np.nonzero(matrix[:, column])[0]
        others = others[others != rank]
        matrix[others] ^= matrix[rank]
        rank += 1
        if rank == matrix.shape[0]:
            break
    return matrix[:rank]


@lru_cache(maxsize=1)
def generator_matrix() -> np.ndarray:
    """The 12×24 generator matrix (uint8, reduced row echelon form) of the extended QR code.

    The 23 cyclic shifts of the indicator of the non-zero quadratic residues mod 23 span the
    [23, 12, 7] binary QR code; appending an overall parity bit (position 23) gives the extended
    Golay code. The rows are the reduced row echelon basis of that span.
    """
    residues = sorted({(i * i) % _QR_MODULUS for i in range(1, _QR_MODULUS)})
    base = np.zeros(_QR_MODULUS, dtype=np.uint8)
    base[residues] = 1
    shifts = np.stack([np.roll(base, k) for k in range(_QR_MODULUS)])
    basis = _gf2_row_reduce(shifts)
    if basis.shape[0] != DIMENSION:
        raise AssertionError("quadratic-residue construction did not give a 12-dim code")
    parity = basis.sum(axis=1, dtype=np.int64) % 2
    generator = np.concatenate([basis, parity[:, None].astype(np.uint8)], axis=1)
    generator.setflags(write=False)
    return generator


def _bits_to_ints(bits: np.ndarray) -> np.ndarray:
    weights = np.left_shift(np.int64(1), np.arange(LENGTH, dtype=np.int64))
    return bits.astype(np.int64) @ weights


@lru_cache(maxsize=1)
def codeword_ints() -> np.ndarray:
    """The 4096 codewords as integers sum(c_i << i), sorted ascending (the canonical order)."""
    messages = (np.arange(2**DIMENSION)[:, None] >> np.arange(DIMENSION)) & 1
    bits = (messages @ generator_matrix().astype(np.int64)) % 2
    ints = np.sort(_bits_to_ints(bits))
    ints.setflags(write=False)
    return ints


@lru_cache(maxsize=1)
def codewords() -> np.ndarray:
    """All 4096 codewords as a (4096, 24) uint8 0/1 array in canonical order (ascending integer)."""
    words = ((codeword_ints()[:, None] >> np.arange(LENGTH)) & 1).astype(np.uint8)
    words.setflags(write=False)
    return words


@lru_cache(maxsize=1)
def octad_codeword_indices() -> np.ndarray:
    """Positions in `codewords()` of the 759 weight-8 codewords, ascending."""
    indices = np.nonzero(codewords().sum(axis=1) == 8)[0]
    indices.setflags(write=False)
    return indices


@lru_cache(maxsize=1)
def octads() -> np.ndarray:
    """The 759 octads as a (759, 8) int64 array of ascending positions, in codeword order."""
    words = codewords()[octad_codeword_indices()]
    positions = np.nonzero(words)[1].reshape(-1, 8)
    positions.setflags(write=False)
    return positions


def weight_enumerator() -> dict[int, int]:
    """Number of codewords of each weight, computed from the codewords: {0:1, 8:759, ...}."""
    counts = np.bincount(codewords().sum(axis=1), minlength=LENGTH + 1)
    return {weight: int(count) for weight, count in enumerate(counts) if count}


def index_of(words: np.ndarray) -> np.ndarray:
    """Canonical indices of codewords given as (..., 24) 0/1 arrays; non-codewords raise ValueError."""
    words = _as_bits(words, "words")
    ints = _bits_to_ints(words.reshape(-1, LENGTH))
    table = codeword_ints()
    positions = np.searchsorted(table, ints)
    found = (positions < table.size) & (table[np.minimum(positions, table.size - 1)] == ints)
    if not found.all():
        raise ValueError(f"{int((~found).sum())} of the given words are not Golay codewords")
    return positions.reshape(words.shape[:-1])


def is_codeword(words: np.ndarray) -> np.ndarray:
    """Boolean array: which (..., 24) 0/1 words lie in the code (zero syndrome)."""
    words = _as_bits(words, "words")
    return ~(((words.astype(np.int64) @ parity_check_matrix().T) % 2).any(axis=-1))


@lru_cache(maxsize=1)
def parity_check_matrix() -> np.ndarray:
    """A 12×24 parity-check matrix H (int64) with H cᵀ = 0 exactly for codewords.

    The extended Golay code is self-dual, so its generator is also a parity-check matrix.
    """
    check = generator_matrix().astype(np.int64)
    check.setflags(write=False)
    return check


def _as_bits(words: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(words)
    if array.ndim == 0 or array.shape[-1] != LENGTH:
        raise ValueError(f"{name} must have last dimension {LENGTH}, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be an integer or boolean 0/1 array, got dtype {array.dtype}")
    if array.size and ((array < 0) | (array > 1)).any():
        raise ValueError(f"{name} must contain only 0 and 1")
    return array.astype(np.uint8)


def decode_hard(received: np.ndarray) -> np.ndarray:
    """Nearest codeword(s) by Hamming distance for (..., 24) 0/1 words; ties -> lowest canonical index.

    Exhaustive over the 4096 codewords (a 4096×24 table), so it is exact for any input, including
    words at distance 4 from several codewords.
    """
    words = _as_bits(received, "received")
    flat = words.reshape(-1, LENGTH).astype(np.int16)
    if flat.shape[0] == 0:
        raise ValueError("received is empty")
    signs = 1 - 2 * codewords().astype(np.int16)
    # Hamming distance = (24 - <±1 word, ±1 codeword>) / 2, so maximise the correlation.
    correlation = (1 - 2 * flat) @ signs.T
    return codewords()[np.argmax(correlation, axis=1)].reshape(words.shape)


def decode_soft(received: np.ndarray) -> np.ndarray:
    """Max-correlation soft decoding: for real (..., 24) vectors r, the codeword index c maximising
    sum_i (-1)^{c_i} r_i (bit 0 <-> +1). Ties -> lowest canonical index. Returns int64 indices.
    """
    values_N24, leading_shape = as_float_points(received, LENGTH, "received")
    signs = 1.0 - 2.0 * codewords().astype(np.float64)
    return np.argmax(values_N24 @ signs.T, axis=1).reshape(leading_shape)
