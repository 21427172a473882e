"""Exact nearest-point (maximum-likelihood) decoding of the Leech lattice Λ24 in √8 coordinates.

Λ24 is the union of 8192 cosets of 4·D24: h·a + 2c + 4·D24 for the half h ∈ {0, 1}, a = (−3, 1²³)
and a Golay codeword c. Within one coset the nearest point is the D24 decoder's (round
u = (t − h·a − 2c)/4 per coordinate; if the rounded sum is odd, re-round the coordinate whose
second-best rounding costs least), so each coordinate i contributes a cost, a parity and a
re-rounding penalty that depend only on (i, c_i). The coset search runs on a three-section trellis
of the Golay code: a trio of disjoint octads splits the coordinates into sections of 8; every
codeword's section words are determined, up to complementing each section (those words are
codewords too), by one of 512 class triples. Per section class, the best cost, its parity and the
penalty of the other parity are tabulated (from 4-coordinate nibble tables); a triple then costs
three additions plus a parity fix, with lower-bound pruning. See docs/decoders.md.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numba
import numpy as np

from lattices import golay
from lattices.decoder_input import POINT_LIMIT, as_float_points

DIM = 24
ODD_SHIFT = np.array([-3] + [1] * (DIM - 1), dtype=np.int64)  # a: the odd half is a + even half
SECTIONS = 3
SECTION_LENGTH = 8
COMPLEMENT = (1 << SECTION_LENGTH) - 1
NIBBLES = 2 * SECTIONS
CLASSES = 64  # classes of section words modulo complement: 128 projected words / 2
TRIPLES = 512  # 4096 codewords / 8 section complements
_CHUNK = 256  # points per parallel work item


class TrellisTables(NamedTuple):
    """Fixed tables of the three-section trellis (all in the section coordinate order)."""

    order: np.ndarray  # (24,) original coordinate at each section position
    position: np.ndarray  # (24,) section position of each original coordinate
    shifts: np.ndarray  # (2, 24) float64: h·a in section order
    class_words: np.ndarray  # (3, 64) int64: representative 8-bit word (bit 7 clear) per class
    triples: np.ndarray  # (512, 3) int64: class ids of the three sections, one row per triple


def _trio() -> np.ndarray:
    """Three disjoint octads covering the 24 coordinates: the first octad, the first octad
    disjoint from it, and their complement (an octad because 1 + O1 + O2 is a codeword)."""
    octads = golay.octads()
    first = octads[0]
    second = next(octad for octad in octads if not np.intersect1d(octad, first).size)
    third = np.setdiff1d(np.arange(DIM), np.concatenate([first, second]))
    word = np.zeros(DIM, dtype=np.uint8)
    word[third] = 1
    if third.size != SECTION_LENGTH or not golay.is_codeword(word):
        raise AssertionError("the complement of two disjoint octads is not an octad")
    return np.stack([first, second, third])


@lru_cache(maxsize=1)
def trellis_tables() -> TrellisTables:
    """Build the trellis tables from `golay.codewords()`; checks the 64/512 class counts."""
    order = _trio().reshape(-1)
    position = np.argsort(order)
    bits = golay.codewords()[:, order].astype(np.int64).reshape(-1, SECTIONS, SECTION_LENGTH)
    words = (bits << np.arange(SECTION_LENGTH)).sum(axis=2)
    representatives = np.where(words > COMPLEMENT >> 1, words ^ COMPLEMENT, words)
    class_words = np.stack([np.unique(representatives[:, j]) for j in range(SECTIONS)])
    if class_words.shape != (SECTIONS, CLASSES):
        raise AssertionError(f"expected {CLASSES} classes per section, got {class_words.shape}")
    class_ids = np.stack([np.searchsorted(class_words[j], representatives[:, j])
                          for j in range(SECTIONS)], axis=1)
    triples = np.unique(class_ids, axis=0)
    if triples.shape != (TRIPLES, SECTIONS):
        raise AssertionError(f"expected {TRIPLES} class triples, got {triples.shape}")
    shifts = np.stack([np.zeros(DIM), ODD_SHIFT[order].astype(np.float64)])
    tables = TrellisTables(order, position, shifts, class_words, triples)
    for array in tables:
        array.setflags(write=False)
    return tables


@numba.njit(cache=True)
def _coordinate_tables(point, order, shift, cost, penalty, parity):
    """Per section position i and codeword bit b: squared rounding error of
    u = (t − shift − 2b)/4 (a sixteenth of the squared distance), parity of the rounded value, and
    1 − 2|error| (the extra cost of the other rounding)."""
    for i in range(DIM):
        base = (point[order[i]] - shift[i]) * 0.25
        for bit in range(2):
            u = base - 0.5 * bit
            rounded = np.floor(u + 0.5)
            error = abs(u - rounded)
            cost[i, bit] = error * error
            penalty[i, bit] = 1.0 - 2.0 * error
            parity[i, bit] = np.int64(rounded) & 1


@numba.njit(cache=True)
def _nibble_tables(cost, penalty, parity, nibble_cost, nibble_parity, nibble_penalty):
    """For each block of 4 positions and each of its 16 bit patterns: summed cost, parity of the
    rounded sum, and the smallest re-rounding penalty."""
    for nibble in range(NIBBLES):
        for mask in range(16):
            total = 0.0
            odd = 0
            smallest = np.inf
            for k in range(4):
                i = 4 * nibble + k
                bit = (mask >> k) & 1
                total += cost[i, bit]
                odd ^= parity[i, bit]
                smallest = min(smallest, penalty[i, bit])
            nibble_cost[nibble, mask] = total
            nibble_parity[nibble, mask] = odd
            nibble_penalty[nibble, mask] = smallest


@numba.njit(cache=True)
def _class_tables(class_words, nibble_cost, nibble_parity, nibble_penalty,
                  class_cost, class_parity, class_penalty):
    """For each section class (a word and its complement): the smallest section cost over both
    words and both parities of the section's rounded sum, the parity attaining it (even on ties),
    and the extra cost of the other parity."""
    for section in range(SECTIONS):
        low_nibble = 2 * section
        for k in range(CLASSES):
            even = np.inf
            odd = np.inf
            for flip in range(2):
                word = class_words[section, k] ^ (COMPLEMENT * flip)
                low = word & 15
                high = word >> 4
                total = nibble_cost[low_nibble, low] + nibble_cost[low_nibble + 1, high]
                smallest = min(nibble_penalty[low_nibble, low], nibble_penalty[low_nibble + 1, high])
                if nibble_parity[low_nibble, low] ^ nibble_parity[low_nibble + 1, high]:
                    odd = min(odd, total)
                    even = min(even, total + smallest)
                else:
                    even = min(even, total)
                    odd = min(odd, total + smallest)
            class_cost[section, k] = min(even, odd)
            class_parity[section, k] = 1 if odd < even else 0
            class_penalty[section, k] = abs(even - odd)


@numba.njit(cache=True)
def _search_triples(triples, class_cost, class_parity, class_penalty, best):
    """Cheapest triple (first on ties) whose cost — the class costs summed, plus the smallest class
    penalty when the class parities sum to odd — is below `best`: returns (cost, index), or
    (best, −1) when none is. The summed class costs are a lower bound that prunes the parity fix."""
    best_index = -1
    for t in range(TRIPLES):
        a = triples[t, 0]
        b = triples[t, 1]
        c = triples[t, 2]
        total = class_cost[0, a] + class_cost[1, b] + class_cost[2, c]
        if total < best:
            if class_parity[0, a] ^ class_parity[1, b] ^ class_parity[2, c]:
                total += min(class_penalty[0, a], min(class_penalty[1, b], class_penalty[2, c]))
            if total < best:
                best = total
                best_index = t
    return best, best_index


@numba.njit(cache=True)
def _section_bit(words, i):
    return (words[i >> 3] >> (i & 7)) & 1


@numba.njit(cache=True)
def _write_best_member(point, tables_words, triple, position, shift, cost, penalty, parity,
                       words, out):
    """Among the 8 codewords of a class triple (each section word or its complement), pick the
    cheapest coset (first on ties), then write its nearest point with the parity fix at the
    cheapest position (lowest original coordinate on ties)."""
    best = np.inf
    best_flips = 0
    for flips in range(8):
        for j in range(SECTIONS):
            words[j] = tables_words[j, triple[j]] ^ (COMPLEMENT * ((flips >> j) & 1))
        total = 0.0
        odd = 0
        smallest = np.inf
        for i in range(DIM):
            bit = _section_bit(words, i)
            total += cost[i, bit]
            odd ^= parity[i, bit]
            smallest = min(smallest, penalty[i, bit])
        if odd:
            total += smallest
        if total < best:
            best = total
            best_flips = flips
    for j in range(SECTIONS):
        words[j] = tables_words[j, triple[j]] ^ (COMPLEMENT * ((best_flips >> j) & 1))
    odd = 0
    fix = -1
    smallest = np.inf
    for coordinate in range(DIM):
        i = position[coordinate]
        bit = _section_bit(words, i)
        odd ^= parity[i, bit]
        if penalty[i, bit] < smallest:
            smallest = penalty[i, bit]
            fix = coordinate
    for coordinate in range(DIM):
        i = position[coordinate]
        bit = _section_bit(words, i)
        u = (point[coordinate] - shift[i] - 2.0 * bit) * 0.25
        rounded = np.floor(u + 0.5)
        if odd and coordinate == fix:
            rounded += 1.0 if u >= rounded else -1.0
        out[coordinate] = np.int64(shift[i]) + 2 * bit + 4 * np.int64(rounded)


@numba.njit(cache=True, parallel=True)
def _nearest_point_kernel(points, order, position, shifts, class_words, triples, out):
    count = points.shape[0]
    for chunk in numba.prange((count + _CHUNK - 1) // _CHUNK):
        cost = np.empty((2, DIM, 2))
        penalty = np.empty((2, DIM, 2))
        parity = np.empty((2, DIM, 2), dtype=np.int64)
        nibble_cost = np.empty((NIBBLES, 16))
        nibble_parity = np.empty((NIBBLES, 16), dtype=np.int64)
        nibble_penalty = np.empty((NIBBLES, 16))
        class_cost = np.empty((SECTIONS, CLASSES))
        class_parity = np.empty((SECTIONS, CLASSES), dtype=np.int64)
        class_penalty = np.empty((SECTIONS, CLASSES))
        words = np.empty(SECTIONS, dtype=np.int64)
        for n in range(chunk * _CHUNK, min(count, (chunk + 1) * _CHUNK)):
            best = np.inf
            best_half = 0
            best_triple = 0
            for half in range(2):
                _coordinate_tables(points[n], order, shifts[half], cost[half], penalty[half],
                                   parity[half])
                _nibble_tables(cost[half], penalty[half], parity[half],
                               nibble_cost, nibble_parity, nibble_penalty)
                _class_tables(class_words, nibble_cost, nibble_parity, nibble_penalty,
                              class_cost, class_parity, class_penalty)
                best, found = _search_triples(triples, class_cost, class_parity, class_penalty, best)
                if found >= 0:
                    best_half = half
                    best_triple = found
            _write_best_member(points[n], class_words, triples[best_triple], position,
                               shifts[best_half], cost[best_half], penalty[best_half],
                               parity[best_half], words, out[n])


def nearest_point(x: np.ndarray) -> np.ndarray:
    """Nearest Λ24 point (√8 coordinates, minimal norm² 32) to each float (..., 24) vector, as
    int64 (..., 24). Exact maximum-likelihood decoding; tie rules in docs/decoders.md."""
    points, leading = as_float_points(x, DIM, max_abs=POINT_LIMIT)
    tables = trellis_tables()
    out = np.empty(points.shape, dtype=np.int64)
    _nearest_point_kernel(points, tables.order, tables.position, tables.shifts,
                          tables.class_words, tables.triples, out)
    return out.reshape(leading + (DIM,))


def nearest_point_exhaustive(x: np.ndarray, chunk: int = 32) -> np.ndarray:
    """Reference decoder in plain numpy: the D24 coset decoder evaluated on all 8192 cosets.

    Ties go to the lowest (half, canonical codeword index), the parity fix to the lowest coordinate.
    Slow (about 8192·24 operations per point); meant for tests and benchmark baselines.
    """
    points, leading = as_float_points(x, DIM, max_abs=POINT_LIMIT)
    codeword_bits = golay.codewords().astype(np.float64)
    shifts = np.stack([np.zeros(DIM), ODD_SHIFT.astype(np.float64)])
    # (8192, 24): h·a + 2c for the even half (rows 0..4095), then the odd half
    offsets = (shifts[:, None, :] + 2.0 * codeword_bits[None, :, :]).reshape(-1, DIM)
    out = np.empty(points.shape, dtype=np.int64)
    for start in range(0, points.shape[0], chunk):
        block = points[start:start + chunk]
        u = (block[:, None, :] - offsets[None, :, :]) * 0.25
        rounded = np.floor(u + 0.5)
        error = u - rounded
        penalty = 1.0 - 2.0 * np.abs(error)
        fix = np.argmin(penalty, axis=2)
        odd = rounded.sum(axis=2).astype(np.int64) & 1
        smallest = np.take_along_axis(penalty, fix[..., None], axis=2)[..., 0]
        cost = (error * error).sum(axis=2) + odd * smallest
        best = np.argmin(cost, axis=1)
        rows = np.arange(block.shape[0])
        chosen = rounded[rows, best]
        fix_rows = np.nonzero(odd[rows, best])[0]
        fix_cols = fix[fix_rows, best[fix_rows]]
        upward = error[fix_rows, best[fix_rows], fix_cols] >= 0
        chosen[fix_rows, fix_cols] += np.where(upward, 1.0, -1.0)
        out[start:start + chunk] = offsets[best].astype(np.int64) + 4 * chosen.astype(np.int64)
    return out.reshape(leading + (DIM,))
