"""Minimum distance δ_min, maximum cosine and nearest-neighbour counts of spherical codes (all pairs, tiled).

All pairs are visited once in square tiles of the Gram matrix (upper triangle only), computed by
single-threaded BLAS matrix products on one thread per core; each tile is reduced to per-row and
per-column maxima (numpy) and counts of entries equal to them (numba), so memory stays O(tile²)
for any N (196,560 points: 1.9·10¹⁰ pairs).

Integer codes whose rows share one norm n (Λ24 shell: n = 32, E8 roots: 8, BSQ: d) are exact: the
Gram entries are integers computed exactly in float32 (float64 when dim·max|x|² ≥ 2²⁴), the
maximum inner product g is exact, max cosine = g/n, δ_min = √(2 − 2g/n), and a neighbour of a
point is another codeword at exactly that inner product. Antipodal integer codes (−x is a codeword
for every codeword x, as for Λ24, E8 and BSQ) are reduced by that symmetry: with H one row of
each pair ±x, the inner products of x ∈ H with all codewords are ±<x, h> for h ∈ H, so for g > 0
the statistics of x (and of −x) follow from |<x, h>| over H × H without the diagonal: a quarter
of the work, every pair still accounted for exactly.

Float codes (rows normalized first) use two passes: float32 tiles bound every row's maximum cosine
to within FLOAT32_BOUND (24-term float32 dot products of unit vectors err by < 2·10⁻⁶), which
selects the few candidate rows that can reach the global maximum; those rows are recomputed
against all points in float64 (in chunks of bounded memory). δ_min is then the smallest directly computed distance ‖x_i − x_j‖
among pairs whose cosine lies within TIE_TOLERANCE of the maximum, and those pairs are the
neighbours counted (every other point has no neighbour at distance δ_min).
"""
from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from lattices.codebook import (
    Codebook,
    check_float_matrix,
    check_integer_matrix,
    code_rows,
    integer_peak,
    normalize_rows,
    squared_norms,
)

TILE = 2048
WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else os.cpu_count() or 1))  # threads, each with one BLAS thread
FLOAT32_BOUND = 1e-5
TIE_TOLERANCE = 1e-12
FLOAT64_CHUNK_ENTRIES = 2**23  # float64 cosines held at once in the exact second pass (64 MiB)
FLOAT32_EXACT_INTEGERS = 2**24
FLOAT64_EXACT_INTEGERS = 2**53


@dataclass(frozen=True, eq=False)
class NeighbourStatistics:
    """Pair statistics of a spherical code of `size` points.

    `neighbour_counts[i]` is the number of other codewords at distance exactly δ_min from point i
    (for float codes: cosine within `tolerance` of the maximum). `exact_max_cosine` is a Fraction
    for exact integer codes, else None.
    """

    size: int
    max_cosine: float
    delta_min: float
    neighbour_counts: np.ndarray
    exact: bool
    tolerance: float
    exact_max_cosine: Fraction | None = None

    @property
    def min_neighbours(self) -> int:
        return int(self.neighbour_counts.min())

    @property
    def mean_neighbours(self) -> float:
        return float(self.neighbour_counts.mean())


@numba.njit(nogil=True, cache=True)
def _mask_lower(tile):  # pragma: no cover - compiled by numba
    """Set the diagonal and everything below it to -inf (each pair of a diagonal tile once)."""
    for i in range(tile.shape[0]):
        for j in range(min(i + 1, tile.shape[1])):
            tile[i, j] = -np.inf


@numba.njit(nogil=True, cache=True)
def _count_maxima(tile, row_max, col_max):  # pragma: no cover - compiled by numba
    """How many entries of each row / column equal that row's / column's maximum."""
    rows, cols = tile.shape
    row_count = np.zeros(rows, np.int64)
    col_count = np.zeros(cols, np.int64)
    for i in range(rows):
        count = 0
        for j in range(cols):
            count += tile[i, j] == row_max[i]
            col_count[j] += tile[i, j] == col_max[j]
        row_count[i] = count
    return row_count, col_count


def _merge(best: np.ndarray, count: np.ndarray, where: slice, new_best: np.ndarray,
           new_count: np.ndarray) -> None:
    current = best[where]
    count[where] = np.where(new_best > current, new_count,
                            np.where(new_best == current, count[where] + new_count, count[where]))
    best[where] = np.maximum(current, new_best)


class _TileWorker:
    """Reduces Gram tiles of one point set; one buffer per thread, so tiles run concurrently."""

    def __init__(self, points: np.ndarray, with_counts: bool, absolute: bool):
        self.points = points
        self.with_counts = with_counts
        self.absolute = absolute
        self.local = threading.local()

    def __call__(self, start: tuple[int, int]) -> tuple[slice, slice, tuple[np.ndarray, ...]]:
        n = self.points.shape[0]
        a, b = start
        rows, cols = slice(a, min(a + TILE, n)), slice(b, min(b + TILE, n))
        if not hasattr(self.local, "buffer"):
            self.local.buffer = np.empty((min(TILE, n), min(TILE, n)), dtype=self.points.dtype)
        tile = self.local.buffer[: rows.stop - a, : cols.stop - b]
        np.matmul(self.points[rows], self.points[cols].T, out=tile)
        if self.absolute:
            np.abs(tile, out=tile)
        if a == b:
            _mask_lower(tile)
        row_max, col_max = tile.max(axis=1), tile.max(axis=0)
        if self.with_counts:
            row_count, col_count = _count_maxima(tile, row_max, col_max)
        else:
            row_count = col_count = np.zeros(0, dtype=np.int64)
        return rows, cols, (row_max, row_count, col_max, col_count)


def _all_pairs_maxima(points: np.ndarray, with_counts: bool, progress: bool, description: str,
                      absolute: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For each row i: max_j≠i <x_i, x_j> (|<x_i, x_j>| if absolute) and (with_counts) how many
    j attain it.

    Tiles of the upper triangle run on WORKERS threads with single-threaded BLAS each.
    """
    n = points.shape[0]
    best = np.full(n, -np.inf, dtype=points.dtype)
    count = np.zeros(n, dtype=np.int64)
    starts = range(0, n, TILE)
    tiles = [(a, b) for a in starts for b in starts if b >= a]
    worker = _TileWorker(points, with_counts, absolute)
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(WORKERS) as pool:
        results = pool.map(worker, tiles)
        if progress:
            from tqdm import tqdm

            results = tqdm(results, total=len(tiles), desc=description, unit="tile", leave=False)
        for rows, cols, (row_max, row_count, col_max, col_count) in results:
            if with_counts:
                _merge(best, count, rows, row_max, row_count)
                _merge(best, count, cols, col_max, col_count)
            else:
                np.maximum(best[rows], row_max, out=best[rows])
                np.maximum(best[cols], col_max, out=best[cols])
    return best, count


def _check_size(size: int) -> None:
    if size < 2:
        raise ValueError(f"a code needs at least 2 vectors for pair statistics, got {size}")


def _antipodal_pairs(integers: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows h whose first non-zero entry is positive, row index of each −h) when the rows are
    distinct and closed under negation; None otherwise."""
    first_sign = np.sign(integers[np.arange(integers.shape[0]),
                                  np.argmax(integers != 0, axis=1)])
    half = np.nonzero(first_sign > 0)[0]
    if 2 * half.size != integers.shape[0]:
        return None
    position = {row.tobytes(): index for index, row in enumerate(integers)}
    if len(position) != integers.shape[0]:
        return None
    partners = [position.get((-integers[index]).tobytes()) for index in half]
    if any(partner is None for partner in partners):
        return None
    return half, np.array(partners, dtype=np.int64)


def _integer_statistics(integers: np.ndarray, norm: int, progress: bool) -> NeighbourStatistics:
    bound = integers.shape[1] * integer_peak(integers) ** 2
    if bound >= FLOAT64_EXACT_INTEGERS:
        raise ValueError(f"integer entries too large for exact inner products (dim·max² = {bound})")
    integers = integers.astype(np.int64)  # exact: every entry is below 2^26.5
    points = np.ascontiguousarray(integers, dtype=np.float32 if bound < FLOAT32_EXACT_INTEGERS
                                  else np.float64)
    best = count = None
    pairs = _antipodal_pairs(integers)
    if pairs is not None and pairs[0].size > 1:
        half, partners = pairs
        half_best, half_count = _all_pairs_maxima(points[half], True, progress,
                                                  "exact all pairs (±)", absolute=True)
        if half_best.max() > 0:  # then ±h cannot both attain the maximum
            best, count = np.empty(integers.shape[0]), np.empty(integers.shape[0], np.int64)
            best[half], best[partners] = half_best, half_best
            count[half], count[partners] = half_count, half_count
    if best is None:
        best, count = _all_pairs_maxima(points, True, progress, "exact all pairs")
    top = int(best.max())
    counts = np.where(best == top, count, 0)
    exact = Fraction(top, norm)
    return NeighbourStatistics(size=integers.shape[0], max_cosine=float(exact),
                               delta_min=math.sqrt(float(2 - 2 * exact)), neighbour_counts=counts,
                               exact=True, tolerance=0.0, exact_max_cosine=exact)


def _float64_rows(unit: np.ndarray, rows: np.ndarray):
    """Yield (row indices, float64 cosines of those rows with all points, self excluded) in
    chunks of at most FLOAT64_CHUNK_ENTRIES cosines."""
    step = max(1, FLOAT64_CHUNK_ENTRIES // unit.shape[0])
    for start in range(0, rows.size, step):
        chunk = rows[start:start + step]
        cosines = unit[chunk] @ unit.T
        cosines[np.arange(chunk.size), chunk] = -np.inf
        yield chunk, cosines


def _float_statistics(unit: np.ndarray, progress: bool) -> NeighbourStatistics:
    n = unit.shape[0]
    coarse, _ = _all_pairs_maxima(np.ascontiguousarray(unit, dtype=np.float32), False,
                                  progress, "float32 all pairs")
    candidates = np.nonzero(coarse >= coarse.max() - 2 * FLOAT32_BOUND - TIE_TOLERANCE)[0]
    row_max = np.concatenate([cosines.max(axis=1) for _, cosines in _float64_rows(unit, candidates)])
    top = float(row_max.max())
    counts = np.zeros(n, dtype=np.int64)
    nearest = np.inf
    for chunk, cosines in _float64_rows(unit, candidates[row_max >= top - TIE_TOLERANCE]):
        rows, columns = np.nonzero(cosines >= top - TIE_TOLERANCE)
        counts[chunk] = np.bincount(rows, minlength=chunk.size)
        distances = np.linalg.norm(unit[chunk[rows]] - unit[columns], axis=1)
        nearest = min(nearest, float(distances.min()))
    return NeighbourStatistics(size=n, max_cosine=top, delta_min=nearest,
                               neighbour_counts=counts, exact=False, tolerance=TIE_TOLERANCE)


def neighbour_statistics(vectors: np.ndarray | Codebook, progress: bool = False) -> NeighbourStatistics:
    """Pair statistics of the code whose points are the rows of `vectors` (an array or a
    `Codebook`, taken through its integer form when it has one), each normalized.

    Integer input whose rows share one squared norm is handled exactly (see the module docstring);
    any other input goes through the two-pass float path. `progress` shows a tqdm bar over tiles.
    """
    array = code_rows(vectors)
    if array.ndim == 2 and np.issubdtype(array.dtype, np.integer):
        integers = check_integer_matrix(array, "vectors")
        _check_size(integers.shape[0])
        squared = squared_norms(integers)
        if (squared == squared[0]).all():
            return _integer_statistics(integers, int(squared[0]), progress)
        return _float_statistics(normalize_rows(integers), progress)
    unit = normalize_rows(check_float_matrix(array, "vectors"))
    _check_size(unit.shape[0])
    return _float_statistics(unit, progress)


def codebook_statistics(codebook: Codebook, progress: bool = False) -> NeighbourStatistics:
    """`neighbour_statistics` of a codebook, exact through its integer form when it has one."""
    if not isinstance(codebook, Codebook):
        raise TypeError(f"codebook must be a lattices.codebook.Codebook, got {type(codebook).__name__}")
    return neighbour_statistics(codebook, progress=progress)


def delta_min(vectors: np.ndarray | Codebook) -> float:
    """Minimum Euclidean distance between distinct codewords after normalizing the rows."""
    return neighbour_statistics(vectors).delta_min


def max_cosine(vectors: np.ndarray | Codebook) -> float:
    """Largest cosine between two distinct rows."""
    return neighbour_statistics(vectors).max_cosine
