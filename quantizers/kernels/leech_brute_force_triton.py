"""Triton brute force of the Λ24 search: B(x, z) over all 196,560 minimal vectors in float64, for the
few tokens no certified stage could decide.

B is the search's definition (docs/search.md): products x_i·z_i in float64 (x_i = ±3 as ±((z + z) + z),
the others exact), added in coordinate order 0..23; the largest B wins, the lowest index on ties.
One token per program iteration (8 warps over tiles of 4,096 vectors); programs walk over a list of token ids (ids ≥ N are padding, so a
list padded to N needs no host synchronisation). A non-finite row gets an index in range.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import triton
import triton.language as tl

from lattices import leech
from quantizers.kernels.leech_search_triton import run_arguments

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
def _brute_force_kernel(z_ptr, index_ptr, n_tokens, ids_ptr, n_ids, table_ptr, BLOCK_V: tl.constexpr):
    vectors = tl.arange(0, BLOCK_V)
    slot = tl.program_id(0)
    token = tl.load(ids_ptr + slot, mask=slot < n_ids, other=n_tokens)
    while token < n_tokens:  # padding (id N) fills the tail of the list: stop at the first
        best = tl.full([], -float("inf"), tl.float64)
        best_index = tl.full([], 0, tl.int32)
        for start in range(0, _COLUMNS, BLOCK_V):
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
            total = tl.where((start + vectors < _NUM_VECTORS) & (total == total), total, -float("inf"))  # nan rows
            tile_best = tl.max(total, axis=0)
            at = tl.argmax(total, axis=0, tie_break_left=True)
            better = tile_best > best  # strict: an equal later score keeps the lower index
            best_index = tl.where(better, start + at, best_index)
            best = tl.where(better, tile_best, best)
        tl.store(index_ptr + token, best_index.to(tl.int64))
        slot += tl.num_programs(0)
        token = tl.load(ids_ptr + slot, mask=slot < n_ids, other=n_tokens)


def brute_force(z_N24: torch.Tensor, *, out_N: torch.Tensor | None = None, token_ids_K: torch.Tensor | None = None,
                block_vectors: int = 4096, programs: int | None = None) -> torch.Tensor:
    """argmax of B(x, z) over the minimal vectors for a contiguous (N, 24) tensor (int64 indices), or
    only for the tokens listed in token_ids_K (ids equal to N are padding and must fill the tail of
    the list), written into out_N."""
    n_tokens = z_N24.shape[0]
    out_N, token_ids_K, _ = run_arguments(z_N24, out_N, token_ids_K, uncertain=-1)
    if block_vectors < 16 or block_vectors & (block_vectors - 1) or _TABLE_COLUMNS % block_vectors:
        raise ValueError(f"block_vectors must be a power of two in [16, 65536], got {block_vectors}")
    ids_K = torch.arange(n_tokens, device=z_N24.device) if token_ids_K is None else token_ids_K
    if ids_K.shape[0] == 0:
        return out_N
    if programs is None:
        sms = torch.cuda.get_device_properties(z_N24.device).multi_processor_count if z_N24.is_cuda else 1
        programs = 8 * sms
    _brute_force_kernel[(min(programs, ids_K.shape[0]),)](
        z_N24, out_N, n_tokens, ids_K, ids_K.shape[0], coordinate_table(z_N24.device), BLOCK_V=block_vectors,
        num_warps=8,
    )
    return out_N
