"""Triton brute force of the Λ24 search: B(x, z) over all 196,560 minimal vectors in float64, for the
few tokens no certified stage could decide.

B is the search's definition (docs/search.md): products x_i·z_i in float64 (x_i = ±3 as ±((z + z) + z),
the others exact), added in coordinate order 0..23; the largest B wins, the lowest index on ties.
Tokens come from a `TokenList` (ids and count on the device, so nothing waits for the host). When
they are fewer than the programs, several programs share a token's tiles of 4,096 vectors so that a
few tokens still fill the GPU: one launch takes the atomic maximum of the parts' best scores (as
order-preserving int64 keys), a second the atomic minimum of the indices of the parts that reach
it. A non-finite row gets an index in range.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import triton
import triton.language as tl

from lattices import leech
from quantizers.kernels.leech_tables import TokenList
from quantizers.kernels.leech_triton_common import run_arguments

_DIM = tl.constexpr(24)
_NUM_VECTORS = tl.constexpr(196560)
_TABLE_COLUMNS = 196608  # 196,560 padded to 3·2¹⁶, a multiple of every block size
_COLUMNS = tl.constexpr(_TABLE_COLUMNS)


@lru_cache(maxsize=8)
def coordinate_table(device: torch.device) -> torch.Tensor:
    """(24, 196608) int8: coordinate i of minimal vector v in row i, column v; zero padding."""
    table = np.zeros((leech.DIM, _TABLE_COLUMNS), dtype=np.int8)
    table[:, :leech.NUM_MINIMAL] = leech.minimal_vectors().T
    return torch.from_numpy(table).to(device)


@triton.jit
def _tile_best(z_ptr, token, table_ptr, start, BLOCK_V: tl.constexpr):
    """Largest B over minimal vectors start .. start + BLOCK_V − 1 and the first index attaining it.
    −0.0 is returned as +0.0 (equal scores get equal keys), and a row with nan scores 0 everywhere."""
    vectors = tl.arange(0, BLOCK_V)
    total = tl.zeros([BLOCK_V], dtype=tl.float64)
    for i in tl.static_range(24):
        z_i = tl.load(z_ptr + token * _DIM + i).to(tl.float64)
        three = (z_i + z_i) + z_i
        x = tl.load(table_ptr + i * _COLUMNS + start + vectors).to(tl.float64)
        product = tl.where(x == 3.0, three, tl.where(x == -3.0, -three, x * z_i))
        if i == 0:
            total = product
        else:
            total = total + product
    total = tl.where(total == total, total, 0.0)  # nan rows
    total = tl.where(start + vectors < _NUM_VECTORS, total, -float("inf"))
    best = tl.max(total, axis=0)
    return tl.where(best == 0.0, 0.0, best), start + tl.argmax(total, axis=0, tie_break_left=True).to(tl.int64)


@triton.jit
def _ordered_key(score):
    """int64 whose signed order is the float64 order of `score` (no nan)."""
    bits = score.to(tl.int64, bitcast=True)
    return tl.where(bits < 0, bits ^ 0x7FFFFFFFFFFFFFFF, bits)


@triton.jit
def _brute_force_kernel(z_ptr, index_ptr, ids_ptr, count_ptr, keys_ptr, table_ptr, BLOCK_V: tl.constexpr,
                        FIND_INDEX: tl.constexpr):
    """S = clamp(programs // listed tokens, 1, tiles) programs share each listed token, taking its
    tiles in turn. S = 1: the first launch decides the token alone. S > 1, first launch: atomic
    max of each part's best score key into keys[token] (zeroed before: the maximum of B over the
    minimal vectors is ≥ 0, since −x scores −B(x)), and the token's index set to the largest
    int64; second launch (FIND_INDEX): every part whose best reaches the maximum takes the atomic
    min of its first index, so the lowest index among equal maxima wins."""
    tiles: tl.constexpr = _COLUMNS // BLOCK_V
    n_ids = tl.load(count_ptr)
    share = tl.minimum(tl.maximum(tl.num_programs(0) // tl.maximum(n_ids, 1), 1), tiles)
    item = tl.program_id(0).to(tl.int64)
    if FIND_INDEX:
        if share == 1:  # the first launch decided every token
            item = n_ids
    while item < n_ids * share:
        token = tl.load(ids_ptr + item // share).to(tl.int64)
        part = item % share
        best = tl.full([], -float("inf"), tl.float64)
        best_index = tl.full([], 0, tl.int64)
        for tile in range(part, tiles, share):
            tile_best, at = _tile_best(z_ptr, token, table_ptr, tile * BLOCK_V, BLOCK_V)
            best_index = tl.where(tile_best > best, at, best_index)  # strict: a later equal score keeps the lower index
            best = tl.maximum(best, tile_best)
        if share == 1:
            tl.store(index_ptr + token, best_index)
        elif FIND_INDEX:
            if _ordered_key(best) == tl.load(keys_ptr + token):
                tl.atomic_min(index_ptr + token, best_index)
        else:
            tl.atomic_max(keys_ptr + token, _ordered_key(best))
            if part == 0:
                tl.store(index_ptr + token, 0x7FFFFFFFFFFFFFFF)
        item += tl.num_programs(0)


def brute_force(z_N24: torch.Tensor, *, out_N: torch.Tensor | None = None, tokens: TokenList | None = None,
                keys_N: torch.Tensor | None = None, block_vectors: int = 4096,
                programs: int | None = None) -> torch.Tensor:
    """argmax of B(x, z) over the minimal vectors for a contiguous (N, 24) tensor (int64 indices), or
    only for the tokens of a `TokenList`, written into out_N. keys_N: zeroed int64 (N,) scratch
    (allocated when not given). Programs (default 8 per SM) share the tokens' tiles of
    `block_vectors` vectors when there are fewer tokens than programs."""
    n_tokens = z_N24.shape[0]
    out_N, capacity = run_arguments(z_N24, out_N, tokens, None, uncertain=-1)
    if block_vectors < 16 or block_vectors & (block_vectors - 1) or _TABLE_COLUMNS % block_vectors:
        raise ValueError(f"block_vectors must be a power of two in [16, 65536], got {block_vectors}")
    if capacity == 0:
        return out_N
    if keys_N is None:
        keys_N = torch.zeros(n_tokens, dtype=torch.int64, device=z_N24.device)
    elif keys_N.shape != (n_tokens,) or keys_N.dtype != torch.int64 or not keys_N.is_contiguous():
        raise ValueError(f"keys_N must be a contiguous int64 tensor of shape ({n_tokens},)")
    tokens = tokens or TokenList.all_tokens(n_tokens, z_N24.device)
    if programs is None:
        sms = torch.cuda.get_device_properties(z_N24.device).multi_processor_count if z_N24.is_cuda else 1
        programs = 8 * sms
    elif programs < 1:
        raise ValueError(f"programs must be positive, got {programs}")
    for find_index in (False, True):
        _brute_force_kernel[(programs,)](z_N24, out_N, tokens.ids, tokens.count, keys_N,
                                         coordinate_table(z_N24.device), BLOCK_V=block_vectors,
                                         FIND_INDEX=find_index, num_warps=8)
    return out_N
