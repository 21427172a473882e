"""Triton helpers shared by the Λ24 search kernels (survivor and screening) and their launchers.

The @triton.jit pieces both kernels run per block of tokens (docs/search.md): token lists on the
device, the exact power-of-two scaling, the pair shape, the moved-coordinate codeword bound, the
exact solutions of one octad or codeword group and the running top two; and the host-side checks
of the launchers' arguments. Moved out of `leech_search_triton` so that the screening kernel
imports public names from one module; the kernels' logic is in their own modules.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from quantizers.kernels.leech_tables import TokenList

_DIM = tl.constexpr(24)
_ODD_OFFSET = tl.constexpr(97152)
_PAIR_OFFSET = tl.constexpr(195456)
MARGIN_FLOAT32 = tl.constexpr(2.0**-15)  # decision margin of float32 scores, relative to Σ|z|
_INF = tl.constexpr(float("inf"))


@triton.jit
def load_tokens(z_ptr, tokens, live, columns):
    """(BLOCK_T, 32) tile of the tokens' coordinates in the input dtype, zero padded."""
    return tl.load(z_ptr + tokens[:, None] * _DIM + columns[None, :],
                   mask=live[:, None] & (columns < _DIM)[None, :], other=0.0)


@triton.jit
def block_tokens(ids_ptr, block, lanes, n_tokens, n_ids, GATHERED: tl.constexpr):
    """Token ids of a block (block·BLOCK_T + lane, or entries of the id list when GATHERED; lanes
    past the list's n_ids entries get id n_tokens) and which of them are live (id < n_tokens)."""
    position = block * lanes.shape[0] + lanes.to(tl.int64)
    if GATHERED:
        tokens = tl.load(ids_ptr + position, mask=position < n_ids, other=n_tokens).to(tl.int64)
    else:
        tokens = position
    return tokens, tokens < n_tokens


@triton.jit
def listed_count(count_ptr, n_tokens, GATHERED: tl.constexpr):
    """Number of tokens to visit: the list's count (on the device) or all n_tokens."""
    if GATHERED:
        n_ids = tl.load(count_ptr)
    else:
        n_ids = tl.zeros([], dtype=tl.int64) + n_tokens
    return n_ids


@triton.jit
def append_tokens(ids_ptr, count_ptr, tokens, flags):
    """Append the flagged tokens to a list: one atomic add on its count per block, then the ids."""
    flags = flags.to(tl.int32)
    added = tl.sum(flags, axis=0)
    if added > 0:
        first = tl.atomic_add(count_ptr, added.to(tl.int64))
        position = first + (tl.cumsum(flags, axis=0) - 1).to(tl.int64)
        tl.store(ids_ptr + position, tokens.to(tl.int32), mask=flags == 1)


@triton.jit
def widen(raw):
    """Exact float64 copy of a float16/bfloat16/float32/float64 tile."""
    if raw.dtype == tl.float64:
        wide = raw
    else:
        wide = raw.to(tl.float32).to(tl.float64)
    return wide


@triton.jit
def power_of_two_factors(raw):
    """Two exact powers of two (float64) whose product scales each row's max |entry| into [0.5, 1)."""
    if raw.dtype == tl.float64:
        largest = tl.max(tl.abs(raw), axis=1)
        exponent = ((largest.to(tl.int64, bitcast=True) >> 52) & 2047).to(tl.int32) - 1022
        half = exponent >> 1
        first = ((1023 - half).to(tl.int64) << 52).to(tl.float64, bitcast=True)
        second = ((1023 - exponent + half).to(tl.int64) << 52).to(tl.float64, bitcast=True)
    else:
        largest = tl.max(tl.abs(raw.to(tl.float32)), axis=1)
        exponent = ((largest.to(tl.int32, bitcast=True) >> 23) & 255) - 126
        half = exponent >> 1
        first = ((127 - half) << 23).to(tl.float32, bitcast=True).to(tl.float64)
        second = ((127 - exponent + half) << 23).to(tl.float32, bitcast=True).to(tl.float64)
    return first, second


@triton.jit
def _extract_largest(values, columns):
    """Row maximum and its (first) column; returns the values with that column set to -1."""
    largest = tl.max(values, axis=1)
    at = tl.argmax(values, axis=1)
    return largest, at, tl.where(columns[None, :] == at[:, None], -1.0, values)


@triton.jit
def _smallest_two(values, columns):
    """Row minimum, its column, and the minimum over the other columns."""
    smallest = tl.min(values, axis=1)
    at = tl.argmin(values, axis=1)
    second = tl.min(tl.where(columns[None, :] == at[:, None], _INF, values), axis=1)
    return smallest, at, second


@triton.jit
def merge(best, runner_up, best_index, group_best, group_second, group_index, valid):
    """Merge per-token group (best, runner-up) scores into the running top two."""
    group_best = tl.where(valid, group_best, -_INF)
    group_second = tl.where(valid, group_second, -_INF)
    better = group_best > best
    runner_up = tl.where(better, tl.maximum(best, group_second), tl.maximum(runner_up, group_best))
    best_index = tl.where(better, group_index, best_index)
    best = tl.where(better, group_best, best)
    return best, runner_up, best_index


@triton.jit
def pair_group(exact, columns):
    """Top two scores of the pair shape (±4², 0²²) from the three largest |z_i| (first column on
    ties), and the best vector's index; `exact` is a (BLOCK_T, 32) tile, zero beyond column 24."""
    work = tl.where((columns < _DIM)[None, :], tl.abs(exact), -1.0)
    y1, first_at, work = _extract_largest(work, columns)
    y2, second_at, work = _extract_largest(work, columns)
    y3, third_at, work = _extract_largest(work, columns)
    pair_a = tl.minimum(first_at, second_at)
    pair_b = tl.maximum(first_at, second_at)
    negative = exact < 0
    sign_bits = tl.sum(tl.where(negative & (columns[None, :] == pair_a[:, None]), 1, 0), axis=1) + 2 * tl.sum(
        tl.where(negative & (columns[None, :] == pair_b[:, None]), 1, 0), axis=1)
    index = _PAIR_OFFSET + 4 * (pair_a * (47 - pair_a) // 2 + pair_b - pair_a - 1) + sign_bits
    return 4.0 * (y1 + y2), 4.0 * (y1 + y3), index


@triton.jit
def moved_codeword_bound(unit, magnitude, columns, TOP: tl.constexpr):
    """Linear bound of the codeword groups (docs/search.md): the best score of codeword c is at most
    z'·s(c) + K, with z' = σ·(2y* − y) on the top coordinates (σ the sign of z), z' = z elsewhere, and
    K = 4·y* + 2·Σ_top (y − y*). The top coordinates are those left after removing TOP times the row's
    largest |z_i| with its ties, y* ≥ 0 the largest of the rest (the bound holds for any such split).
    Returns (z', K)."""
    work = tl.where((columns < _DIM)[None, :], magnitude, -1.0)
    for rank in tl.static_range(TOP):
        work = tl.where(work >= tl.max(work, axis=1)[:, None], -1.0, work)
    cutoff = tl.maximum(tl.max(work, axis=1), 0.0)
    top = magnitude > cutoff[:, None]
    moved = tl.where(top, tl.where(unit < 0, -1.0, 1.0) * (2.0 * cutoff[:, None] - magnitude), unit)
    constant = 4.0 * cutoff + 2.0 * tl.sum(tl.where(top, magnitude - cutoff[:, None], 0.0), axis=1)
    return moved, constant


@triton.jit
def solve_octad(exact, octad_masks_ptr, octad, valid, columns):
    """Best and runner-up scores of each token's octad group, and the best vector's index."""
    octad_bits = tl.load(octad_masks_ptr + octad, mask=valid, other=0)
    member = ((octad_bits[:, None] >> columns[None, :]) & 1) == 1
    magnitude = tl.abs(exact)
    total = tl.sum(tl.where(member, magnitude, 0.0), axis=1)
    odd = (tl.sum(tl.where(member & (exact < 0), 1, 0), axis=1) & 1) == 1
    smallest, at, second_smallest = _smallest_two(tl.where(member, magnitude, _INF), columns)
    group_best = tl.where(odd, 2.0 * (total - 2.0 * smallest), 2.0 * total)
    group_second = tl.where(odd, 2.0 * (total - 2.0 * second_smallest),
                            2.0 * (total - 2.0 * (smallest + second_smallest)))
    rank_in_octad = tl.maximum(tl.cumsum(member.to(tl.int32), axis=1) - 1, 0)
    minus = (exact < 0) ^ (odd[:, None] & (columns[None, :] == at[:, None]))  # odd: flip the smallest
    pattern = tl.sum(tl.where(member & minus, 1 << rank_in_octad, 0), axis=1)
    return group_best, group_second, 128 * octad + (pattern >> 1)


@triton.jit
def solve_codeword(exact, codeword_masks_ptr, codeword, valid, columns):
    """Best and runner-up scores over the ±3 position for each token's codeword, and the best index."""
    codeword_bits = tl.load(codeword_masks_ptr + codeword, mask=valid, other=0)
    signed = tl.where(((codeword_bits[:, None] >> columns[None, :]) & 1) == 1, -exact, exact)
    correlation = tl.sum(signed, axis=1)
    smallest, at, second_smallest = _smallest_two(tl.where((columns < _DIM)[None, :], signed, _INF), columns)
    return correlation - 4.0 * smallest, correlation - 4.0 * second_smallest, _ODD_OFFSET + _DIM * codeword + at


def run_arguments(z_N24: torch.Tensor, out_N: torch.Tensor | None, tokens: TokenList | None,
                  leftovers: TokenList | None, uncertain: int) -> tuple[torch.Tensor, int]:
    """Check the arguments shared by the kernels' launchers: returns (the output, given or new, and
    how many tokens the grid must be able to cover). A listed run (`tokens`) needs out_N."""
    n_tokens = z_N24.shape[0]
    for name, listed in (("tokens", tokens), ("leftovers", leftovers)):
        if listed is None:
            continue
        if not isinstance(listed, TokenList):
            raise TypeError(f"{name} must be a TokenList, got {type(listed).__name__}")
        ids, count = listed
        if ids.dtype != torch.int32 or ids.ndim != 1 or not ids.is_contiguous() or ids.device != z_N24.device:
            raise ValueError(f"{name}.ids must be a contiguous one-dimensional int32 tensor on {z_N24.device}")
        if count.dtype != torch.int64 or count.shape != (1,) or count.device != z_N24.device:
            raise ValueError(f"{name}.count must be an int64 tensor of shape (1,) on {z_N24.device}")
    if leftovers is not None and leftovers.ids.shape[0] < n_tokens:
        raise ValueError(f"leftovers.ids needs room for {n_tokens} tokens, has {leftovers.ids.shape[0]}")
    if tokens is not None and out_N is None:
        raise ValueError("a listed run (tokens) needs out_N, the indices to write into")
    if out_N is None:
        out_N = torch.empty(n_tokens, dtype=torch.int64, device=z_N24.device)
    elif out_N.shape != (n_tokens,) or out_N.dtype != torch.int64 or not out_N.is_contiguous():
        raise ValueError(f"out_N must be a contiguous int64 tensor of shape ({n_tokens},)")
    if uncertain >= 0:
        raise ValueError(f"uncertain must be negative, got {uncertain}")
    return out_N, n_tokens if tokens is None else min(n_tokens, tokens.ids.shape[0])


def list_pointers(out_N: torch.Tensor, tokens: TokenList | None, leftovers: TokenList | None) -> tuple:
    """Kernel arguments (ids, count, next ids, next count); absent lists are replaced by out_N,
    which the kernel then never reads as a list (GATHERED and APPEND are off)."""
    tokens = tokens or (out_N, out_N)
    leftovers = leftovers or (out_N, out_N)
    return tokens[0], tokens[1], leftovers[0], leftovers[1]
