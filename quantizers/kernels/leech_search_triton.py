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

from quantizers.kernels.leech_tables import KernelConfig, KernelTables, TokenList
from quantizers.kernels.leech_triton_common import (
    MARGIN_FLOAT32,
    append_tokens,
    block_tokens,
    list_pointers,
    listed_count,
    load_tokens,
    merge,
    moved_codeword_bound,
    pair_group,
    power_of_two_factors,
    run_arguments,
    solve_codeword,
    solve_octad,
    widen,
)

_DIM = tl.constexpr(24)
_NUM_CODEWORDS = tl.constexpr(4096)
_NUM_OCTADS = tl.constexpr(759)
_OCTAD_COLUMNS = tl.constexpr(768)  # 759 octads padded with empty ones
_QUANT = tl.constexpr(0.5 / 127 + 2.0**-20)  # |q/127 − v| for q = floor(127·v + 0.5), |v| ≤ 1
_SLACK_UNIT = tl.constexpr(2.0**-17)  # float32 error allowance per score, relative to Σ|z| at unit scale
_MARGIN_FLOAT64 = tl.constexpr(2.0**-40)  # decision margin of float64 scores, relative to Σ|z|
_INF = tl.constexpr(float("inf"))


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
    n_ids = listed_count(count_ptr, n_tokens, GATHERED)
    block = tl.program_id(0)
    while block * BLOCK_T < n_ids:
        tokens, live = block_tokens(ids_ptr, block, lanes, n_tokens, n_ids, GATHERED)
        raw = load_tokens(z_ptr, tokens, live, columns)
        first, second = power_of_two_factors(raw)
        unit = ((widen(raw) * first[:, None]) * second[:, None]).to(tl.float32)
        magnitude = tl.abs(unit)
        slack = _SLACK_UNIT * tl.sum(magnitude, axis=1) + 2.0**-100
        if PRECISE:  # decisions in float64 at the input scale
            exact = widen(raw)
            margin = _MARGIN_FLOAT64 * tl.sum(tl.abs(exact), axis=1) + 2.0**-1000
            to_unit = first * second
        else:  # decisions in float32 at unit scale
            exact = unit
            margin = MARGIN_FLOAT32 * tl.sum(magnitude, axis=1) + 2.0**-100
            to_unit = first * 0.0 + 1.0

        best, runner_up, best_index = pair_group(exact, columns)

        moved, constant = moved_codeword_bound(unit, magnitude, columns, TOP)
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
            group_best, group_second, group_index = solve_octad(exact, octad_masks_ptr, octad, valid, columns)
            best, runner_up, best_index = merge(best, runner_up, best_index, group_best, group_second,
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
            group_best, group_second, group_index = solve_codeword(exact, codeword_masks_ptr, codeword, valid,
                                                                    columns)
            best, runner_up, best_index = merge(best, runner_up, best_index, group_best, group_second,
                                                 group_index, valid)
        tl.debug_barrier()

        certain = (runner_up < best - margin) & ~overflow
        tl.store(index_ptr + tokens, tl.where(certain, best_index, UNCERTAIN).to(tl.int64), mask=live)
        if APPEND:
            append_tokens(next_ids_ptr, next_count_ptr, tokens, live & ~certain)
        block += tl.num_programs(0)


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
