"""Triton screening kernel of the Λ24 search: float16 tensor-core bounds, one exact candidate per family.

One program per block of BLOCK_T tokens (docs/search.md, "Screening kernel"):
1. z is scaled by an exact power of two to max|z_i| ∈ [0.5, 1) and kept in float32 ("unit").
2. The pair shape is solved exactly (top two scores).
3. Upper bounds of every codeword group and every octad group come from float16 tensor-core dots of
   float16 copies of float32 operands; each dot misses the float32 one by at most the row's summed
   rounding error of its operand (measured per token, added to the family's bounds):
   codeword c and its complement share min(|z'·s(c)| + K, |z·s(c)| + 4·y₁) (the moved-coordinate
   bound with TOP coordinates and the largest-coordinate bound); octad o gets 2·Σ_o y − 4·[odd]·m_o,
   where m_o ≤ min_o y is a linear lower bound from the BOTTOM smallest coordinates.
4. Each family keeps, per column position of its tiles, the largest bound, its tile and the largest
   of the others (elementwise, no reduction inside the loops). The CANDIDATES codeword columns
   (both words of each) and octads with the largest bounds are then solved exactly in float32 and
   merged with the pairs into the running top two.
5. The index is certified when the runner-up and the next bound of both families lie below
   best − margin (bounds plus `slack`); otherwise the token gets -1 for the survivor kernel
   (`leech_search_triton`). Rows with nan or inf are never certified.
Memory: none besides the output; the tables are read from global memory (L2) by every program.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from quantizers.kernels.leech_tables import KernelConfig, KernelTables, TokenList
from quantizers.kernels.leech_triton_common import (MARGIN_FLOAT32, append_tokens, block_tokens, list_pointers,
                                                    listed_count, load_tokens, merge, moved_codeword_bound, pair_group,
                                                    power_of_two_factors, run_arguments, solve_codeword, solve_octad,
                                                    widen)

_DIM = tl.constexpr(24)
_HALF_CODEWORDS = tl.constexpr(2048)
_NUM_CODEWORDS = tl.constexpr(4096)
_OCTAD_COLUMNS = tl.constexpr(768)
_SCREEN_SLACK = tl.constexpr(2.0**-16)  # float32 arithmetic allowance of a bound, relative to Σ|z| at unit scale
_INF = tl.constexpr(float("inf"))
_ROUNDING = tl.constexpr(1.5 * 2.0**23)  # x + this − this rounds x ∈ [0, 2^22) to an integer (float32)


@triton.jit
def _round_half(values):
    """float16 copy of a float32 tile and, per row, Σ|values − copy| (exact in float32): a dot of the
    copy with ±1 or 0/1 columns misses the float32 dot by at most that sum."""
    rounded = values.to(tl.float16)
    return rounded, tl.sum(tl.abs(values - rounded.to(tl.float32)), axis=1)


@triton.jit
def _odd(count):
    """1.0 where an integer count in [0, 2^22) is odd, 0.0 where it is even, in float32 arithmetic
    only: c/2 is rounded to an integer r (adding and removing 1.5·2^23; halves go to the even
    neighbour) and |2r − c| is 1 for odd c, 0 for even c. Reading the parity from the bits of a
    float32 value instead lost it on the H200 (docs/search.md, "Octad parity")."""
    rounded = (0.5 * count + _ROUNDING) - _ROUNDING
    return tl.abs(2.0 * rounded - count)


@triton.jit
def _bottom_bound(magnitude, columns, BOTTOM: tl.constexpr):
    """Weights w and floor f with min_o y ≥ f − Σ_o w for every octad o: BOTTOM times the row's
    smallest |z_i| (with its ties) is removed, f is the smallest that is left (at most max y) and the
    removed get w_i = f − y_i ≥ 0; also returns the smallest |z_i|."""
    real = (columns < _DIM)[None, :]
    work = tl.where(real, magnitude, _INF)
    smallest = tl.min(work, axis=1)
    for rank in tl.static_range(BOTTOM):
        work = tl.where(work <= tl.min(work, axis=1)[:, None], _INF, work)
    floor = tl.minimum(tl.min(work, axis=1), tl.max(magnitude, axis=1))
    return tl.where(real & (magnitude < floor[:, None]), floor[:, None] - magnitude, 0.0), floor, smallest


@triton.jit
def _track_tiles(values, offset, best, tile_best, tile_offset, tile_second):
    """One-candidate tracking: fold a (BLOCK_T, width) tile of bounds (ids offset + column) into the
    largest bound per column position (one max per element), and per row the largest and second
    largest tile maxima with the offset of the largest tile."""
    row = tl.max(values, axis=1)
    tile_second = tl.maximum(tile_second, tl.minimum(row, tile_best))
    tile_offset = tl.where(row > tile_best, offset, tile_offset)
    return tl.maximum(best, values), tl.maximum(tile_best, row), tile_offset, tile_second


@triton.jit
def _single_candidate(best, tile_offset, tile_second):
    """The id of the bound that `_track_tiles` saw largest (tile of the largest tile maximum,
    position of the largest column maximum) and an upper bound of every other bound: a column in
    another tile is at most the second tile maximum, one in the same tile at most the largest
    bound of its position."""
    positions = tl.arange(0, best.shape[1])[None, :]
    at = tl.argmax(best, axis=1)
    others = tl.max(tl.where(positions == at[:, None], -_INF, best), axis=1)
    return tile_offset + at, tl.maximum(tile_second, others)


@triton.jit
def _track(values, offset, best, best_offset, second):
    """Fold a (BLOCK_T, width) tile of bounds (ids offset + column) into running per-column state:
    the largest bound seen in each column position, the offset of its tile, and the largest of the
    others (elementwise: no reduction per tile)."""
    second = tl.maximum(second, tl.minimum(values, best))
    best_offset = tl.where(values > best, offset, best_offset)
    return tl.maximum(best, values), best_offset, second


@triton.jit
def _take_largest(best, best_offset):
    """The id (tile offset + column) of each row's largest per-column bound; that column set to -inf."""
    positions = tl.arange(0, best.shape[1])[None, :]
    at = tl.argmax(best, axis=1)
    taken = positions == at[:, None]
    return tl.sum(tl.where(taken, best_offset, 0), axis=1) + at, tl.where(taken, -_INF, best)


@triton.jit
def _add_codeword_column(unit, codeword_masks_ptr, codeword, live, columns, best, runner_up, best_index):
    """Solve each token's codeword column exactly (codeword c and its complement 4095 − c) and merge
    both groups into the running top two."""
    for word in tl.static_range(2):
        if word == 1:
            codeword = _NUM_CODEWORDS - 1 - codeword
        group_best, group_second, group_index = solve_codeword(unit, codeword_masks_ptr, codeword, live, columns)
        best, runner_up, best_index = merge(best, runner_up, best_index, group_best, group_second, group_index,
                                             live)
    return best, runner_up, best_index


@triton.jit
def _add_octad(unit, octad_masks_ptr, octad, live, columns, best, runner_up, best_index):
    """Solve each token's octad group exactly and merge it into the running top two."""
    group_best, group_second, group_index = solve_octad(unit, octad_masks_ptr, octad, live, columns)
    return merge(best, runner_up, best_index, group_best, group_second, group_index, live)


@triton.jit
def _leech_screen_kernel(
    z_ptr, index_ptr, n_tokens, ids_ptr, count_ptr, next_ids_ptr, next_count_ptr,
    codeword_signs_ptr, codeword_masks_ptr, octad_members_ptr, octad_masks_ptr,
    BLOCK_T: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_O: tl.constexpr,
    TOP: tl.constexpr, BOTTOM: tl.constexpr, CANDIDATES: tl.constexpr, GATHERED: tl.constexpr,
    APPEND: tl.constexpr, UNCERTAIN: tl.constexpr,
):
    columns = tl.arange(0, 32)
    n_ids = listed_count(count_ptr, n_tokens, GATHERED)
    block = tl.program_id(0)
    while block * BLOCK_T < n_ids:  # one block per program over all tokens; a persistent walk over a list
        tokens, live = block_tokens(ids_ptr, block, tl.arange(0, BLOCK_T), n_tokens, n_ids, GATHERED)
        uncertain = _screen_block(z_ptr, index_ptr, tokens, live, columns, codeword_signs_ptr, codeword_masks_ptr,
                                  octad_members_ptr, octad_masks_ptr, BLOCK_T, BLOCK_C, BLOCK_O,
                                  TOP, BOTTOM, CANDIDATES, UNCERTAIN)
        if APPEND:
            append_tokens(next_ids_ptr, next_count_ptr, tokens, uncertain)
        block += tl.num_programs(0)


@triton.jit
def _fold(values, offset, best, best_offset, second, tile_best, tile_offset, tile_second,
          CANDIDATES: tl.constexpr):
    """Fold one tile of bounds into the family's running state: `_track_tiles` for one candidate,
    `_track` (per position: largest, its tile, second largest) for several."""
    if CANDIDATES == 1:
        best, tile_best, tile_offset, tile_second = _track_tiles(values, offset, best, tile_best, tile_offset,
                                                                 tile_second)
    else:
        best, best_offset, second = _track(values, offset, best, best_offset, second)
    return best, best_offset, second, tile_best, tile_offset, tile_second


@triton.jit
def _empty_state(BLOCK_T: tl.constexpr, WIDTH: tl.constexpr):
    """Initial state of `_fold` for tiles of WIDTH columns."""
    best = tl.full([BLOCK_T, WIDTH], -_INF, tl.float32)
    tile_best = tl.full([BLOCK_T], -_INF, tl.float32)
    return (best, tl.zeros([BLOCK_T, WIDTH], dtype=tl.int32), best, tile_best, tl.zeros([BLOCK_T], dtype=tl.int32),
            tile_best)


@triton.jit
def _screen_block(z_ptr, index_ptr, tokens, live, columns, codeword_signs_ptr, codeword_masks_ptr,
                  octad_members_ptr, octad_masks_ptr, BLOCK_T: tl.constexpr,
                  BLOCK_C: tl.constexpr, BLOCK_O: tl.constexpr, TOP: tl.constexpr, BOTTOM: tl.constexpr,
                  CANDIDATES: tl.constexpr, UNCERTAIN: tl.constexpr):
    """Screen one block of tokens and store the certified indices (UNCERTAIN elsewhere); returns
    which live tokens stay uncertain."""
    raw = load_tokens(z_ptr, tokens, live, columns)
    first, second = power_of_two_factors(raw)
    unit = ((widen(raw) * first[:, None]) * second[:, None]).to(tl.float32)
    finite = tl.sum(tl.abs(unit), axis=1) < _INF  # a row with nan or inf is searched as 0, never certified
    unit = tl.where(finite[:, None], unit, 0.0)
    magnitude = tl.abs(unit)
    total = tl.sum(magnitude, axis=1)
    margin = MARGIN_FLOAT32 * total + 2.0**-100
    slack = _SCREEN_SLACK * total + 2.0**-100
    best, runner_up, best_index = pair_group(unit, columns)

    # Codeword columns c < 2048: one bound for c and its complement 4095 − c, tracked less `constant`.
    moved, constant = moved_codeword_bound(unit, magnitude, columns, TOP)
    moved_half, moved_error = _round_half(moved)
    unit_half, unit_error = _round_half(unit)
    ceiling = 4.0 * tl.max(magnitude, axis=1) - constant
    best_c, offset_c, second_c, top_c, top_offset_c, next_c = _empty_state(BLOCK_T, BLOCK_C)
    for first_codeword in range(0, _HALF_CODEWORDS, BLOCK_C):
        codewords = first_codeword + tl.arange(0, BLOCK_C)
        signs = tl.load(codeword_signs_ptr + columns[:, None] * _HALF_CODEWORDS + codewords[None, :])
        bound = tl.abs(tl.dot(moved_half, signs))
        correlation = tl.abs(tl.dot(unit_half, signs)) + ceiling[:, None]
        best_c, offset_c, second_c, top_c, top_offset_c, next_c = _fold(
            tl.minimum(bound, correlation), first_codeword, best_c, offset_c, second_c, top_c, top_offset_c, next_c,
            CANDIDATES)
    # Exact (float32) solutions of the codeword columns with the largest bounds, both words of each.
    if CANDIDATES == 1:
        codeword, unsolved_c = _single_candidate(best_c, top_offset_c, next_c)
        best, runner_up, best_index = _add_codeword_column(unit, codeword_masks_ptr, codeword, live, columns, best,
                                                           runner_up, best_index)
    else:
        for rank in tl.static_range(CANDIDATES):
            codeword, best_c = _take_largest(best_c, offset_c)
            best, runner_up, best_index = _add_codeword_column(unit, codeword_masks_ptr, codeword, live, columns,
                                                               best, runner_up, best_index)
        unsolved_c = tl.max(tl.maximum(best_c, second_c), axis=1)
    unsolved = unsolved_c + constant + tl.maximum(moved_error, unit_error)

    # Octads: 2·Σ_o y − 4·[odd]·max(f − Σ_o w, min y), from operands scaled by 2 and 4 (exact);
    # the padding columns (no members) bound 0. The parity of the negative entries comes from a
    # float16 dot of 0/1 operands (an exact count) in float arithmetic only (`_odd`).
    weights, floor, smallest = _bottom_bound(magnitude, columns, BOTTOM)
    double_half, double_error = _round_half(2.0 * magnitude)
    weights_half, weights_error = _round_half(4.0 * weights)
    floor4 = 4.0 * floor[:, None]
    smallest4 = 4.0 * smallest[:, None]
    negative = (unit < 0).to(tl.float16)
    best_o, offset_o, second_o, top_o, top_offset_o, next_o = _empty_state(BLOCK_T, BLOCK_O)
    for first_octad in range(0, _OCTAD_COLUMNS, BLOCK_O):
        octads = first_octad + tl.arange(0, BLOCK_O)
        table = columns[:, None] * _OCTAD_COLUMNS + octads[None, :]
        members = tl.load(octad_members_ptr + table)
        sums2 = tl.dot(double_half, members)
        lowest4 = tl.maximum(floor4 - tl.dot(weights_half, members), smallest4)
        odd = _odd(tl.dot(negative, members))
        best_o, offset_o, second_o, top_o, top_offset_o, next_o = _fold(
            sums2 - odd * lowest4, first_octad, best_o, offset_o, second_o, top_o, top_offset_o,
            next_o, CANDIDATES)
    if CANDIDATES == 1:
        octad, unsolved_o = _single_candidate(best_o, top_offset_o, next_o)
        best, runner_up, best_index = _add_octad(unit, octad_masks_ptr, octad, live, columns, best, runner_up,
                                                 best_index)
    else:
        for rank in tl.static_range(CANDIDATES):
            octad, best_o = _take_largest(best_o, offset_o)
            best, runner_up, best_index = _add_octad(unit, octad_masks_ptr, octad, live, columns, best, runner_up,
                                                     best_index)
        unsolved_o = tl.max(tl.maximum(best_o, second_o), axis=1)
    unsolved = tl.maximum(unsolved, unsolved_o + double_error + weights_error)
    certain = (tl.maximum(runner_up, unsolved + slack) < best - margin) & finite
    tl.store(index_ptr + tokens, tl.where(certain, best_index, UNCERTAIN).to(tl.int64), mask=live)
    return live & ~certain


def screen(z_N24: torch.Tensor, tables: KernelTables, config: KernelConfig, *, candidates: int = 1,
           out_N: torch.Tensor | None = None, tokens: TokenList | None = None,
           leftovers: TokenList | None = None, uncertain: int = -1) -> torch.Tensor:
    """Run the screening kernel on a contiguous (N, 24) tensor: int64 indices, `uncertain` where it
    could not certify. candidates: codeword columns and octads solved exactly per token (1 to 4).
    out_N, tokens and leftovers as in `leech_search_triton.launch`: over all tokens the grid has one
    program per block, over a list it is persistent (`config.programs`)."""
    if candidates not in (1, 2, 3, 4):
        raise ValueError(f"candidates must lie in 1..4, got {candidates}")
    out_N, capacity = run_arguments(z_N24, out_N, tokens, leftovers, uncertain)
    if capacity == 0:
        return out_N
    programs = triton.cdiv(capacity, config.screen_block_tokens)
    if tokens is not None:
        programs = min(programs, config.programs(z_N24.device))
    _leech_screen_kernel[(programs,)](
        z_N24, out_N, z_N24.shape[0], *list_pointers(out_N, tokens, leftovers),
        tables.codeword_signs_half, tables.codeword_masks, tables.octad_members_half, tables.octad_masks,
        BLOCK_T=config.screen_block_tokens, BLOCK_C=config.screen_block_codewords,
        BLOCK_O=config.screen_block_octads, TOP=config.screen_top, BOTTOM=config.screen_bottom,
        CANDIDATES=candidates, GATHERED=tokens is not None, APPEND=leftovers is not None, UNCERTAIN=uncertain,
        num_warps=config.screen_warps,
    )
    return out_N
