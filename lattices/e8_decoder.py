"""Nearest-point and nearest-root decoding in E8 (doubled coordinates), numba-parallel over points.

Public through `lattices.e8` (`e8.nearest_point`, `e8.nearest_root`); this module does not import `e8`.

E8 in doubled coordinates is 2·D8 ∪ (2·D8 + 1). The nearest point of each coset comes from the
Conway–Sloane D8 decoder (round every coordinate; if the rounded sum is odd, re-round the
coordinate with the largest rounding error the other way), and the closer coset wins
(Conway & Sloane, IEEE Trans. IT 28 (1982) 227–232; SPLAG ch. 20). Tie rules are in docs/decoders.md.
"""
from __future__ import annotations

import numba
import numpy as np

from lattices.decoder_input import POINT_LIMIT, as_float_points

DIM = 8
_CHUNK = 1024  # points per parallel work item


@numba.njit(cache=True, inline="always")
def _d8_coset_cost(row: np.ndarray, offset: float) -> tuple[float, int]:
    """A quarter of the squared distance from row to 2·D8 + offset·1, and the coordinate re-rounded
    for parity (-1 when the rounded sum is already even)."""
    cost = 0.0
    parity = 0
    worst_error = -1.0
    worst = 0
    for k in range(DIM):
        half = (row[k] - offset) * 0.5
        rounded = np.floor(half + 0.5)
        error = abs(half - rounded)
        cost += error * error
        parity ^= np.int64(rounded) & 1
        if error > worst_error:
            worst_error = error
            worst = k
    if parity:
        return cost + 1.0 - 2.0 * worst_error, worst
    return cost, -1


@numba.njit(cache=True, inline="always")
def _write_d8_coset_point(row: np.ndarray, offset: float, flip: int, out: np.ndarray) -> None:
    for k in range(DIM):
        half = (row[k] - offset) * 0.5
        rounded = np.floor(half + 0.5)
        if k == flip:
            rounded += 1.0 if half >= rounded else -1.0
        out[k] = 2 * np.int64(rounded) + np.int64(offset)


@numba.njit(cache=True, parallel=True)
def _nearest_point_kernel(points: np.ndarray, out: np.ndarray) -> None:
    count = points.shape[0]
    for chunk in numba.prange((count + _CHUNK - 1) // _CHUNK):
        for n in range(chunk * _CHUNK, min(count, (chunk + 1) * _CHUNK)):
            even_cost, even_flip = _d8_coset_cost(points[n], 0.0)
            odd_cost, odd_flip = _d8_coset_cost(points[n], 1.0)
            if odd_cost < even_cost:
                _write_d8_coset_point(points[n], 1.0, odd_flip, out[n])
            else:
                _write_d8_coset_point(points[n], 0.0, even_flip, out[n])


def nearest_point(x: np.ndarray) -> np.ndarray:
    """Nearest E8 point (doubled coordinates) to each float (..., 8) vector, as int64 (..., 8).

    Exact; ties between the cosets go to 2·D8, parity re-rounding ties to the lowest coordinate.
    """
    points, leading = as_float_points(x, DIM, max_abs=POINT_LIMIT)
    out = np.empty(points.shape, dtype=np.int64)
    _nearest_point_kernel(points, out)
    return out.reshape(leading + (DIM,))


def nearest_point_numpy(x: np.ndarray) -> np.ndarray:
    """Reference implementation of `nearest_point` in plain numpy (same algorithm and tie rules)."""
    points, leading = as_float_points(x, DIM, max_abs=POINT_LIMIT)
    candidates, costs = [], []
    for offset in (0.0, 1.0):
        half = (points - offset) * 0.5
        rounded = np.floor(half + 0.5)
        error = half - rounded
        worst = np.argmax(np.abs(error), axis=1)
        odd = (rounded.sum(axis=1).astype(np.int64) & 1).astype(bool)
        rows = np.nonzero(odd)[0]
        rounded[rows, worst[rows]] += np.where(error[rows, worst[rows]] >= 0, 1.0, -1.0)
        candidate = 2 * rounded.astype(np.int64) + int(offset)
        candidates.append(candidate)
        costs.append(((points - candidate) ** 2).sum(axis=1))
    choose_odd = costs[1] < costs[0]
    out = np.where(choose_odd[:, None], candidates[1], candidates[0])
    return out.reshape(leading + (DIM,))


@numba.njit(cache=True, parallel=True)
def largest_inner_product(points: np.ndarray, vectors: np.ndarray, out: np.ndarray) -> None:
    """out[n] = index of the row of `vectors` with the largest inner product with points[n] (float64,
    summed in coordinate order; ties go to the lowest index). The kernel of `e8.nearest_root`."""
    count = points.shape[0]
    for chunk in numba.prange((count + _CHUNK - 1) // _CHUNK):
        for n in range(chunk * _CHUNK, min(count, (chunk + 1) * _CHUNK)):
            best = -np.inf
            best_index = 0
            for j in range(vectors.shape[0]):
                score = 0.0
                for k in range(DIM):
                    score += points[n, k] * vectors[j, k]
                if score > best:
                    best = score
                    best_index = j
            out[n] = best_index
