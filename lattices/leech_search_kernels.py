"""Numba kernels of the exact nearest-Λ24-minimal-vector search (algorithm: `lattices.leech_search`)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from lattices import golay, leech

DIM = leech.DIM
NUM_OCTADS = 759
NUM_CODEWORDS = 2**golay.DIMENSION
OCTAD_OFFSET, ODD_OFFSET, PAIR_OFFSET = leech.SHAPE_OFFSETS
BLOCK = 16  # tokens searched together; the token loops vectorise
# Fast-pass error margin per token: MARGIN_RELATIVE·Σ|z_i| + MARGIN_ABSOLUTE (derivation in docs/search.md).
MARGIN_RELATIVE = 2.0**-32
MARGIN_ABSOLUTE = 2.0**-1000

@njit(cache=True)
def _margin(abs_sum: float) -> float:
    return MARGIN_RELATIVE * abs_sum + MARGIN_ABSOLUTE


@njit(cache=True)
def _pair_index(a: int, b: int) -> int:
    return a * (2 * DIM - a - 1) // 2 + (b - a - 1)


@njit(cache=True)
def _triple(value: float) -> float:
    """fl(3·value) without a multiplication that a compiler could fuse with the next addition."""
    return (value + value) + value


@njit(cache=True)
def _b_score(z: np.ndarray, x: np.ndarray) -> float:
    """B(x, z) (module docstring) for an integer-valued float64 vector x."""
    total = 0.0
    for i in range(DIM):
        if x[i] == 0.0:
            continue  # adding a zero product leaves the running sum unchanged
        if x[i] == 3.0:
            total = total + _triple(z[i])
        elif x[i] == -3.0:
            total = total - _triple(z[i])
        else:
            total = total + x[i] * z[i]
    return total


@njit(cache=True)
def _offer(score: float, index: int, best_score: float, best_index: int) -> tuple[float, int]:
    if score > best_score or (score == best_score and index < best_index):
        return score, index
    return best_score, best_index


@njit(cache=True)
def _octad_group(z_DB: np.ndarray, t: int, positions: np.ndarray) -> tuple[float, float, int]:
    """Best and runner-up approximate scores of an octad's 128 sign patterns for token column t of
    z_DB (coordinates × tokens), and the best pattern's sign mask."""
    total = 0.0
    smallest = np.inf
    second_smallest = np.inf
    smallest_slot = 0
    negatives = 0
    mask = 0
    for slot in range(8):
        value = z_DB[positions[slot], t]
        magnitude = abs(value)
        total += magnitude
        if value < 0.0:
            negatives += 1
            mask |= 1 << slot
        if magnitude < smallest:
            second_smallest = smallest
            smallest = magnitude
            smallest_slot = slot
        elif magnitude < second_smallest:
            second_smallest = magnitude
    if negatives % 2 == 1:  # flip the sign of the smallest entry to reach an even sign pattern
        mask ^= 1 << smallest_slot
        return 2.0 * (total - 2.0 * smallest), 2.0 * (total - 2.0 * second_smallest), mask
    return 2.0 * total, 2.0 * (total - 2.0 * (smallest + second_smallest)), mask


@njit(cache=True)
def _odd_group(z_DB: np.ndarray, t: int, mask: int, correlation: float) -> tuple[float, float, int]:
    """Best and runner-up approximate scores over the ±3 position j for one codeword sign pattern
    (token column t of z_DB), and that best position."""
    smallest = np.inf
    second_smallest = np.inf
    smallest_position = 0
    for i in range(DIM):
        signed = -z_DB[i, t] if (mask >> i) & 1 else z_DB[i, t]
        if signed < smallest:
            second_smallest = smallest
            smallest = signed
            smallest_position = i
        elif signed < second_smallest:
            second_smallest = signed
    return correlation - 4.0 * smallest, correlation - 4.0 * second_smallest, smallest_position


@njit(cache=True)
def _exact_token(z: np.ndarray, threshold: float, octad_positions: np.ndarray,
                 codeword_masks: np.ndarray) -> int:
    """Argmax of B over all minimal vectors whose approximate score reaches `threshold` (lowest index
    among equal B). Every vector within the error margin of the maximum is among them."""
    z_D1 = z.reshape((DIM, 1))
    x = np.zeros(DIM)
    best_score = -np.inf
    best_index = -1
    pair = 0
    for a in range(DIM):
        for b in range(a + 1, DIM):
            for signs in range(4):
                xa = -4.0 if signs & 1 else 4.0
                xb = -4.0 if signs & 2 else 4.0
                if xa * z[a] + xb * z[b] >= threshold:
                    x[:] = 0.0
                    x[a] = xa
                    x[b] = xb
                    best_score, best_index = _offer(_b_score(z, x), PAIR_OFFSET + 4 * pair + signs,
                                                    best_score, best_index)
            pair += 1
    for octad in range(NUM_OCTADS):
        positions = octad_positions[octad]
        if _octad_group(z_D1, 0, positions)[0] < threshold:
            continue
        for pattern in range(128):
            low_bits = pattern << 1
            parity = 0
            for slot in range(1, 8):
                parity ^= (low_bits >> slot) & 1
            sign_mask = low_bits | parity  # the even-weight mask m with m >> 1 == pattern
            x[:] = 0.0
            approximate = 0.0
            for slot in range(8):
                x[positions[slot]] = -2.0 if (sign_mask >> slot) & 1 else 2.0
                approximate += x[positions[slot]] * z[positions[slot]]
            if approximate >= threshold:
                best_score, best_index = _offer(_b_score(z, x), OCTAD_OFFSET + 128 * octad + pattern,
                                                best_score, best_index)
    for codeword in range(NUM_CODEWORDS):
        mask = codeword_masks[codeword]
        correlation = 0.0
        for i in range(DIM):
            correlation += -z[i] if (mask >> i) & 1 else z[i]
        if _odd_group(z_D1, 0, mask, correlation)[0] < threshold:
            continue
        for j in range(DIM):
            signed = -z[j] if (mask >> j) & 1 else z[j]
            if correlation - 4.0 * signed < threshold:
                continue
            for i in range(DIM):
                x[i] = -1.0 if (mask >> i) & 1 else 1.0
            x[j] *= -3.0
            best_score, best_index = _offer(_b_score(z, x), ODD_OFFSET + DIM * codeword + j,
                                            best_score, best_index)
    return best_index


@njit(cache=True)
def _record(group_best: float, group_second: float, index: int, t: int, best: np.ndarray,
            runner_up: np.ndarray, best_index: np.ndarray) -> None:
    """Merge a group's (best, runner-up) approximate scores into token t's running top two."""
    if group_best > best[t]:
        runner_up[t] = max(best[t], group_second)
        best[t] = group_best
        best_index[t] = index
    elif group_best > runner_up[t]:
        runner_up[t] = group_best


@njit(cache=True)
def _solve_octad(z_DB: np.ndarray, t: int, octad: int, octad_positions: np.ndarray, best: np.ndarray,
                 runner_up: np.ndarray, best_index: np.ndarray) -> None:
    group_best, group_second, mask = _octad_group(z_DB, t, octad_positions[octad])
    _record(group_best, group_second, OCTAD_OFFSET + 128 * octad + (mask >> 1), t, best, runner_up, best_index)


@njit(cache=True)
def _pairs_block(z_DB: np.ndarray, best: np.ndarray, runner_up: np.ndarray, best_index: np.ndarray,
                 margin: np.ndarray, four_max: np.ndarray) -> None:
    """Shape (±4², 0²²): the two largest |z_i| with their signs; the runner-up uses the third largest.
    Also sets each token's error margin and 4·max|z_i|."""
    for t in range(BLOCK):
        first, second, third = -1.0, -1.0, -1.0
        first_at, second_at = 0, 0
        abs_sum = 0.0
        for i in range(DIM):
            magnitude = abs(z_DB[i, t])
            abs_sum += magnitude
            if magnitude > first:
                third, second, first = second, first, magnitude
                second_at, first_at = first_at, i
            elif magnitude > second:
                third, second = second, magnitude
                second_at = i
            elif magnitude > third:
                third = magnitude
        margin[t] = _margin(abs_sum)
        four_max[t] = 4.0 * first
        a, b = min(first_at, second_at), max(first_at, second_at)
        signs = (1 if z_DB[a, t] < 0.0 else 0) | (2 if z_DB[b, t] < 0.0 else 0)
        _record(4.0 * (first + second), 4.0 * (first + third), PAIR_OFFSET + 4 * _pair_index(a, b) + signs,
                t, best, runner_up, best_index)


@njit(cache=True)
def _octads_block(z_DB: np.ndarray, octad_positions: np.ndarray, best: np.ndarray, runner_up: np.ndarray,
                  best_index: np.ndarray, margin: np.ndarray) -> None:
    """Shape (±2⁸, 0¹⁶): 2·Σ|z| over an octad bounds its group from above. All sums first; the group of
    the largest sum seeds the running best; then only the groups that can still compete are solved."""
    abs_DB = np.abs(z_DB)
    sums_OB = np.empty((NUM_OCTADS, BLOCK))
    for octad in range(NUM_OCTADS):
        p0, p1, p2, p3, p4, p5, p6, p7 = octad_positions[octad]
        for t in range(BLOCK):
            sums_OB[octad, t] = ((abs_DB[p0, t] + abs_DB[p1, t]) + (abs_DB[p2, t] + abs_DB[p3, t])) + (
                (abs_DB[p4, t] + abs_DB[p5, t]) + (abs_DB[p6, t] + abs_DB[p7, t]))
    largest_at = np.zeros(BLOCK, dtype=np.int64)
    for t in range(BLOCK):
        largest_at[t] = np.argmax(sums_OB[:, t])
        _solve_octad(z_DB, t, largest_at[t], octad_positions, best, runner_up, best_index)
    for octad in range(NUM_OCTADS):
        for t in range(BLOCK):
            if 2.0 * sums_OB[octad, t] >= best[t] - margin[t] and octad != largest_at[t]:
                _solve_octad(z_DB, t, octad, octad_positions, best, runner_up, best_index)


@njit(cache=True)
def _odd_block(z_DB: np.ndarray, gray_masks: np.ndarray, gray_canonical: np.ndarray,
               gray_positions: np.ndarray, gray_coefficients: np.ndarray, best: np.ndarray,
               runner_up: np.ndarray, best_index: np.ndarray, margin: np.ndarray, four_max: np.ndarray) -> None:
    """Shape (∓3, ±1²³): Gray-code walk over the 4096 codewords. A group's scores are at most
    correlation + 4·max|z_i|, so it is solved only when correlation ≥ cut = best − margin − 4·max|z_i|."""
    correlation = np.zeros(BLOCK)
    cut = np.empty(BLOCK)
    for t in range(BLOCK):
        cut[t] = best[t] - margin[t] - four_max[t]
        for i in range(DIM):
            correlation[t] += z_DB[i, t]
    for step in range(NUM_CODEWORDS):
        if step > 0:  # eight flipped coordinates, summed as a tree; the token loop vectorises
            r0, r1, r2, r3, r4, r5, r6, r7 = gray_positions[step]
            k0, k1, k2, k3, k4, k5, k6, k7 = gray_coefficients[step]
            for t in range(BLOCK):
                correlation[t] = correlation[t] + (
                    ((k0 * z_DB[r0, t] + k1 * z_DB[r1, t]) + (k2 * z_DB[r2, t] + k3 * z_DB[r3, t]))
                    + ((k4 * z_DB[r4, t] + k5 * z_DB[r5, t]) + (k6 * z_DB[r6, t] + k7 * z_DB[r7, t])))
        hopeful = 0
        for t in range(BLOCK):
            hopeful += correlation[t] >= cut[t]
        if hopeful == 0:
            continue
        for t in range(BLOCK):
            if correlation[t] >= cut[t]:
                group_best, group_second, j = _odd_group(z_DB, t, gray_masks[step], correlation[t])
                _record(group_best, group_second, ODD_OFFSET + DIM * gray_canonical[step] + j,
                        t, best, runner_up, best_index)
                cut[t] = best[t] - margin[t] - four_max[t]


@njit(cache=True)
def _search_block(z_all: np.ndarray, start: int, stop: int, octad_positions: np.ndarray,
                  codeword_masks: np.ndarray, gray_masks: np.ndarray, gray_canonical: np.ndarray,
                  gray_positions: np.ndarray, gray_coefficients: np.ndarray, out: np.ndarray) -> None:
    """Search tokens start..stop-1 (at most BLOCK) of z_all, writing their indices into out."""
    count = stop - start
    z_DB = np.empty((DIM, BLOCK))  # coordinates × tokens; padding lanes repeat the first token
    for t in range(BLOCK):
        row = start + (t if t < count else 0)
        for i in range(DIM):
            z_DB[i, t] = z_all[row, i]
    best = np.full(BLOCK, -np.inf)
    runner_up = np.full(BLOCK, -np.inf)
    best_index = np.zeros(BLOCK, dtype=np.int64)
    margin = np.empty(BLOCK)
    four_max = np.empty(BLOCK)
    _pairs_block(z_DB, best, runner_up, best_index, margin, four_max)
    _octads_block(z_DB, octad_positions, best, runner_up, best_index, margin)
    _odd_block(z_DB, gray_masks, gray_canonical, gray_positions, gray_coefficients, best, runner_up,
               best_index, margin, four_max)
    token = np.empty(DIM)
    for t in range(count):
        if runner_up[t] >= best[t] - margin[t]:  # a near tie: decide with exact B scores
            token[:] = z_DB[:, t]
            out[start + t] = _exact_token(token, best[t] - margin[t], octad_positions, codeword_masks)
        else:
            out[start + t] = best_index[t]


@njit(parallel=True, cache=True)
def search_all(z: np.ndarray, octad_positions: np.ndarray, codeword_masks: np.ndarray,
                gray_masks: np.ndarray, gray_canonical: np.ndarray, gray_positions: np.ndarray,
                gray_coefficients: np.ndarray) -> np.ndarray:
    """Canonical indices (N,) int64 for the float64 (N, 24) tokens z, given `search_tables()`."""
    count = z.shape[0]
    out = np.empty(count, dtype=np.int64)
    for block in prange((count + BLOCK - 1) // BLOCK):
        start = block * BLOCK
        _search_block(z, start, min(count, start + BLOCK), octad_positions, codeword_masks,
                      gray_masks, gray_canonical, gray_positions, gray_coefficients, out)
    return out
