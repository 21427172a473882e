"""Triton kernel of the exact Λ24 nearest-minimal search: int8 tensor-core pruning, certified decisions.

A persistent grid of programs walks over blocks of BLOCK_T tokens. Per block (docs/search.md):
1. z is loaded and scaled by an exact power of two so that max|z_i| ∈ [0.5, 1) ("unit" scale,
   float32). The decision scores are float32 at unit scale, or float64 at the input scale when
   PRECISE (the mode used to re-run the few tokens that float32 cannot certify).
2. Pair shape: best and runner-up from the three largest |z_i| start the running top two.
3. Octads, two passes of exact int8 dots round(127·|z|) × membership: the first gives a rigorous
   lower bound of the best score (1.5·Σ or 2·Σ by sign parity), the second keeps the octads whose
   upper bound 2·Σ reaches it ("survivors", at most SLOTS per token in a per-program scratch).
4. Survivor octads are solved (sign parity, two smallest |z_i|) into the running top two.
5. Codewords: the best score of codeword c is at most z'·s(c) + K, a linear bound whose z' moves
   the TOP largest coordinates; one exact int8 dot per tile evaluates it for c and, negated, for
   its complement (the all-ones word is a codeword). Survivors are solved like the octads.
6. The index is certified when the runner-up lies below best − margin (the margin covers every
   rounding, docs/search.md) and no survivor list overflowed; otherwise the token gets -1.
   Non-finite rows are never certified (their margin is inf or nan). In the search it runs after
   the screening kernel (leech_screen_triton), on the tokens that one could not certify.
GATHERED mode takes the tokens from a `TokenList` instead (ids and their count on the device: the
persistent programs read the count, so nothing waits for the host), writes their indices in place
and marks the tokens it cannot certify UNCERTAIN; APPEND mode also appends those to another list.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from quantizers.kernels.leech_search import KernelConfig, KernelTables, TokenList

_DIM = tl.constexpr(24)
_NUM_CODEWORDS = tl.constexpr(4096)
_NUM_OCTADS = tl.constexpr(759)
_OCTAD_COLUMNS = tl.constexpr(768)  # 759 octads padded with empty ones
_ODD_OFFSET = tl.constexpr(97152)
_PAIR_OFFSET = tl.constexpr(195456)
_QUANT = tl.constexpr(0.5 / 127 + 2.0**-20)  # |q/127 − v| for q = floor(127·v + 0.5), |v| ≤ 1
_SLACK_UNIT = tl.constexpr(2.0**-17)  # float32 error allowance per score, relative to Σ|z| at unit scale
_MARGIN_FLOAT32 = tl.constexpr(2.0**-15)  # decision margin of float32 scores, relative to Σ|z|
_MARGIN_FLOAT64 = tl.constexpr(2.0**-40)  # decision margin of float64 scores, relative to Σ|z|
_INF = tl.constexpr(float("inf"))


@triton.jit
def _load_tokens(z_ptr, tokens, live, columns):
    """(BLOCK_T, 32) tile of the tokens' coordinates in the input dtype, zero padded."""
    return tl.load(z_ptr + tokens[:, None] * _DIM + columns[None, :],
                   mask=live[:, None] & (columns < _DIM)[None, :], other=0.0)


@triton.jit
def _block_tokens(ids_ptr, block, lanes, n_tokens, n_ids, GATHERED: tl.constexpr):
    """Token ids of a block (block·BLOCK_T + lane, or entries of the id list when GATHERED; lanes
    past the list's n_ids entries get id n_tokens) and which of them are live (id < n_tokens)."""
    position = block * lanes.shape[0] + lanes.to(tl.int64)
    if GATHERED:
        tokens = tl.load(ids_ptr + position, mask=position < n_ids, other=n_tokens).to(tl.int64)
    else:
        tokens = position
    return tokens, tokens < n_tokens


@triton.jit
def _listed_count(count_ptr, n_tokens, GATHERED: tl.constexpr):
    """Number of tokens to visit: the list's count (on the device) or all n_tokens."""
    if GATHERED:
        n_ids = tl.load(count_ptr)
    else:
        n_ids = tl.zeros([], dtype=tl.int64) + n_tokens
    return n_ids


@triton.jit
def _append_tokens(ids_ptr, count_ptr, tokens, flags):
    """Append the flagged tokens to a list: one atomic add on its count per block, then the ids."""
    flags = flags.to(tl.int32)
    added = tl.sum(flags, axis=0)
    if added > 0:
        first = tl.atomic_add(count_ptr, added.to(tl.int64))
        position = first + (tl.cumsum(flags, axis=0) - 1).to(tl.int64)
        tl.store(ids_ptr + position, tokens.to(tl.int32), mask=flags == 1)


@triton.jit
def _widen(raw):
    """Exact float64 copy of a float16/bfloat16/float32/float64 tile."""
    if raw.dtype == tl.float64:
        wide = raw
    else:
        wide = raw.to(tl.float32).to(tl.float64)
    return wide


@triton.jit
def _power_of_two_factors(raw):
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
def _merge(best, runner_up, best_index, group_best, group_second, group_index, valid):
    """Merge per-token group (best, runner-up) scores into the running top two."""
    group_best = tl.where(valid, group_best, -_INF)
    group_second = tl.where(valid, group_second, -_INF)
    better = group_best > best
    runner_up = tl.where(better, tl.maximum(best, group_second), tl.maximum(runner_up, group_best))
    best_index = tl.where(better, group_index, best_index)
    best = tl.where(better, group_best, best)
    return best, runner_up, best_index


@triton.jit
def _pair_group(exact, columns):
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
def _moved_codeword_bound(unit, magnitude, columns, TOP: tl.constexpr):
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
def _append_survivors(slot_rows, count, survive, ids, SLOTS: tl.constexpr):
    """Append the ids of each token's surviving columns to its slot row; returns the new counts."""
    flags = survive.to(tl.int32)
    position = count[:, None] + tl.cumsum(flags, axis=1) - 1
    tl.store(slot_rows[:, None] + position, ids.to(tl.int16), mask=survive & (position < SLOTS))
    return count + tl.sum(flags, axis=1)


@triton.jit
def _octad_sums(magnitude_q, negative_q, octad_members_ptr, first_octad, columns, BLOCK_O: tl.constexpr):
    """Σ round(127·|z_i|)/127 over each octad of a tile (exact int32 dot) and its sign parity."""
    octads = first_octad + tl.arange(0, BLOCK_O)
    members = tl.load(octad_members_ptr + columns[:, None] * _OCTAD_COLUMNS + octads[None, :])
    sums = tl.dot(magnitude_q, members, out_dtype=tl.int32).to(tl.float32) * (1.0 / 127.0)
    odd = (tl.dot(negative_q, members, out_dtype=tl.int32) & 1) == 1
    return octads, sums, odd


@triton.jit
def _solve_octad(exact, octad_masks_ptr, octad, valid, columns):
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
def _solve_codeword(exact, codeword_masks_ptr, codeword, valid, columns):
    """Best and runner-up scores over the ±3 position for each token's codeword, and the best index."""
    codeword_bits = tl.load(codeword_masks_ptr + codeword, mask=valid, other=0)
    signed = tl.where(((codeword_bits[:, None] >> columns[None, :]) & 1) == 1, -exact, exact)
    correlation = tl.sum(signed, axis=1)
    smallest, at, second_smallest = _smallest_two(tl.where((columns < _DIM)[None, :], signed, _INF), columns)
    return correlation - 4.0 * smallest, correlation - 4.0 * second_smallest, _ODD_OFFSET + _DIM * codeword + at


@triton.jit
def _leech_search_kernel(
    z_ptr, index_ptr, slots_ptr, n_tokens, ids_ptr, count_ptr, next_ids_ptr, next_count_ptr,
    codeword_signs_ptr, codeword_masks_ptr, octad_members_ptr, octad_masks_ptr,
    BLOCK_T: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_O: tl.constexpr,
    SLOTS: tl.constexpr, TOP: tl.constexpr, PRECISE: tl.constexpr, GATHERED: tl.constexpr,
    APPEND: tl.constexpr, UNCERTAIN: tl.constexpr,
):
    lanes = tl.arange(0, BLOCK_T)
    columns = tl.arange(0, 32)
    slot_rows = slots_ptr + (tl.program_id(0) * BLOCK_T + lanes).to(tl.int64) * SLOTS
    n_ids = _listed_count(count_ptr, n_tokens, GATHERED)
    block = tl.program_id(0)
    while block * BLOCK_T < n_ids:
        tokens, live = _block_tokens(ids_ptr, block, lanes, n_tokens, n_ids, GATHERED)
        raw = _load_tokens(z_ptr, tokens, live, columns)
        first, second = _power_of_two_factors(raw)
        unit = ((_widen(raw) * first[:, None]) * second[:, None]).to(tl.float32)
        magnitude = tl.abs(unit)
        slack = _SLACK_UNIT * tl.sum(magnitude, axis=1) + 2.0**-100
        if PRECISE:  # decisions in float64 at the input scale
            exact = _widen(raw)
            margin = _MARGIN_FLOAT64 * tl.sum(tl.abs(exact), axis=1) + 2.0**-1000
            to_unit = first * second
        else:  # decisions in float32 at unit scale
            exact = unit
            margin = _MARGIN_FLOAT32 * tl.sum(magnitude, axis=1) + 2.0**-100
            to_unit = first * 0.0 + 1.0

        best, runner_up, best_index = _pair_group(exact, columns)

        moved, constant = _moved_codeword_bound(unit, magnitude, columns, TOP)
        moved_q = tl.floor(moved * 127.0 + 0.5).to(tl.int8)
        magnitude_q = tl.floor(magnitude * 127.0 + 0.5).to(tl.int8)
        negative_q = (unit < 0).to(tl.int8)

        # Octads, pass 1: a lower bound of the best octad score; pass 2: the survivors reaching it.
        lower = (best * to_unit).to(tl.float32) - slack
        for first_octad in range(0, _OCTAD_COLUMNS, BLOCK_O):
            octads, sums, odd = _octad_sums(magnitude_q, negative_q, octad_members_ptr, first_octad, columns, BLOCK_O)
            low = tl.where(odd, 1.5, 2.0) * (sums - 8 * _QUANT) - slack[:, None]
            lower = tl.maximum(lower, tl.max(tl.where((octads < _NUM_OCTADS)[None, :], low, -_INF), axis=1))
        count = tl.zeros([BLOCK_T], dtype=tl.int32)
        for first_octad in range(0, _OCTAD_COLUMNS, BLOCK_O):
            octads, sums, odd = _octad_sums(magnitude_q, negative_q, octad_members_ptr, first_octad, columns, BLOCK_O)
            upper = 2.0 * (sums + 8 * _QUANT) + slack[:, None]
            survive = (upper >= (lower - 2.0 * slack)[:, None]) & (octads < _NUM_OCTADS)[None, :]
            count = _append_survivors(slot_rows, count, survive & live[:, None],
                                      tl.broadcast_to(octads[None, :], sums.shape), SLOTS)
        overflow = count > SLOTS
        tl.debug_barrier()
        for slot in range(0, tl.minimum(tl.max(count), SLOTS)):
            valid = live & (slot < count)
            octad = tl.load(slot_rows + slot, mask=valid, other=0, cache_modifier=".cg").to(tl.int32)
            group_best, group_second, group_index = _solve_octad(exact, octad_masks_ptr, octad, valid, columns)
            best, runner_up, best_index = _merge(best, runner_up, best_index, group_best, group_second,
                                                 group_index, valid)
        tl.debug_barrier()

        # Codewords c < 2048 and their complements 4095 − c: bound ±d + K with d = z'·s(c) (int8 dot).
        lower = tl.maximum(lower, (best * to_unit).to(tl.float32) - slack)
        threshold = tl.ceil(127.0 * (lower - 3.0 * slack - constant - _DIM * _QUANT) - 1.0).to(tl.int32)
        overflow = overflow | (threshold <= 0)  # then c and its complement could both survive
        count = tl.zeros([BLOCK_T], dtype=tl.int32)
        for first_codeword in range(0, _NUM_CODEWORDS // 2, BLOCK_C):
            codewords = first_codeword + tl.arange(0, BLOCK_C)
            signs = tl.load(codeword_signs_ptr + columns[:, None] * (_NUM_CODEWORDS // 2) + codewords[None, :])
            bound = tl.dot(moved_q, signs, out_dtype=tl.int32)
            survive = (tl.abs(bound) >= threshold[:, None]) & (threshold > 0)[:, None] & live[:, None]
            ids = tl.where(bound > 0, codewords[None, :], _NUM_CODEWORDS - 1 - codewords[None, :])
            count = _append_survivors(slot_rows, count, survive, ids, SLOTS)
        overflow = overflow | (count > SLOTS)
        tl.debug_barrier()
        for slot in range(0, tl.minimum(tl.max(count), SLOTS)):
            valid = live & (slot < count)
            codeword = tl.load(slot_rows + slot, mask=valid, other=0, cache_modifier=".cg").to(tl.int32)
            group_best, group_second, group_index = _solve_codeword(exact, codeword_masks_ptr, codeword, valid,
                                                                    columns)
            best, runner_up, best_index = _merge(best, runner_up, best_index, group_best, group_second,
                                                 group_index, valid)
        tl.debug_barrier()

        certain = (runner_up < best - margin) & ~overflow
        tl.store(index_ptr + tokens, tl.where(certain, best_index, UNCERTAIN).to(tl.int64), mask=live)
        if APPEND:
            _append_tokens(next_ids_ptr, next_count_ptr, tokens, live & ~certain)
        block += tl.num_programs(0)


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


def launch(z_N24: torch.Tensor, tables: KernelTables, config: KernelConfig, *, precise: bool,
           out_N: torch.Tensor | None = None, tokens: TokenList | None = None,
           leftovers: TokenList | None = None, uncertain: int = -1) -> torch.Tensor:
    """Run the kernel on a contiguous (N, 24) tensor: int64 indices, `uncertain` where it could not certify.

    precise=False decides in float32 (fast); precise=True in float64. The indices are written into
    out_N (contiguous int64 (N,)) when given. With `tokens`, only the listed tokens are searched
    and written (their ids are not range-checked, which would need a host synchronisation); with
    `leftovers`, the tokens it cannot certify are appended to that list. Scratch besides the
    output: programs·block_tokens·slots int16 survivor slots, independent of N.
    """
    out_N, capacity = run_arguments(z_N24, out_N, tokens, leftovers, uncertain)
    if capacity == 0:
        return out_N
    programs = min(triton.cdiv(capacity, config.block_tokens), config.programs(z_N24.device))
    slots = torch.empty((programs * config.block_tokens, config.slots), dtype=torch.int16, device=z_N24.device)
    _leech_search_kernel[(programs,)](
        z_N24, out_N, slots, z_N24.shape[0], *list_pointers(out_N, tokens, leftovers),
        tables.codeword_signs, tables.codeword_masks, tables.octad_members, tables.octad_masks,
        BLOCK_T=config.block_tokens, BLOCK_C=config.block_codewords, BLOCK_O=config.block_octads,
        SLOTS=config.slots, TOP=config.top, PRECISE=precise, GATHERED=tokens is not None,
        APPEND=leftovers is not None, UNCERTAIN=uncertain, num_warps=config.num_warps,
    )
    return out_N
