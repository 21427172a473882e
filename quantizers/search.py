"""Exact tiled nearest-codeword search: running argmax over codebook tiles, never an N×K matrix."""
from __future__ import annotations

import torch
from torch import Tensor

# (rows, codewords) per score tile: small enough for the CPU cache, large enough to fill a GPU.
TILE_SHAPE = {"cpu": (256, 1024), "cuda": (32768, 8192)}
# Score precision: fp32 on CPU; fp64 on CUDA, where an fp32 matmul may silently run in TF32 (a
# global user setting) and fp64 costs about as much as fp32 on recent data-centre GPUs.
SCORE_DTYPE = {"cuda": torch.float64}


# Registered as an operator (with a fake kernel for shapes) so that torch.compile traces through
# it without a graph break. The low-level Library API avoids importing torch._dynamo on first call.
_LIBRARY = torch.library.Library("slq", "DEF")
_LIBRARY.define("tiled_argmax_score(Tensor z, Tensor codebook, Tensor? bias, int row_chunk, int code_tile) -> Tensor")


def _tiled_argmax_score(
    z_Nd: Tensor, codebook_Kd: Tensor, bias_K: Tensor | None, row_chunk: int, code_tile: int
) -> Tensor:
    """argmax_k (z·c_k + bias_k) per row, first (lowest) index on ties, scores in SCORE_DTYPE."""
    indices_N = torch.zeros(z_Nd.shape[0], dtype=torch.int64, device=z_Nd.device)
    score_dtype = SCORE_DTYPE.get(z_Nd.device.type, torch.float32)
    z_Nd, codebook_Kd = z_Nd.to(score_dtype), codebook_Kd.to(score_dtype)
    bias_K = None if bias_K is None else bias_K.to(score_dtype)
    with torch.autocast(z_Nd.device.type, enabled=False):
        for row_start in range(0, z_Nd.shape[0], row_chunk):
            rows_Rd = z_Nd[row_start:row_start + row_chunk]
            best_R = torch.full((rows_Rd.shape[0],), -torch.inf, dtype=score_dtype, device=z_Nd.device)
            best_index_R = indices_N[row_start:row_start + row_chunk]
            for code_start in range(0, codebook_Kd.shape[0], code_tile):
                tile_Td = codebook_Kd[code_start:code_start + code_tile]
                if bias_K is None:
                    scores_RT = rows_Rd @ tile_Td.T
                else:
                    scores_RT = torch.addmm(bias_K[code_start:code_start + code_tile], rows_Rd, tile_Td.T)
                tile_best_R, tile_index_R = scores_RT.max(dim=1)
                better_R = tile_best_R > best_R  # strict: an equal score in a later tile keeps the earlier index
                best_R = torch.where(better_R, tile_best_R, best_R)
                best_index_R.copy_(torch.where(better_R, tile_index_R + code_start, best_index_R))
    return indices_N


def _tiled_argmax_score_fake(z_Nd, codebook_Kd, bias_K, row_chunk, code_tile):
    return z_Nd.new_empty((z_Nd.shape[0],), dtype=torch.int64)


_LIBRARY.impl("tiled_argmax_score", _tiled_argmax_score, "CompositeExplicitAutograd")
torch.library.register_fake("slq::tiled_argmax_score", _tiled_argmax_score_fake, lib=_LIBRARY)


def argmax_score(
    z_Nd: Tensor,
    codebook_Kd: Tensor,
    bias_K: Tensor | None = None,
    *,
    row_chunk: int | None = None,
    code_tile: int | None = None,
) -> Tensor:
    """Index (int64, N) of the codeword maximising z·c_k + bias_k over fp32 inputs.

    Ties go to the lowest index. Rows are processed `row_chunk` at a time against `code_tile`
    codewords at a time (defaults per device in TILE_SHAPE), so memory stays at
    row_chunk × code_tile scores whatever N and K are.
    Inputs of any floating dtype are cast to fp32 and autocast is switched off inside, so bf16
    values give the same indices as the same values in fp32. Scores are fp32 on CPU and fp64 on
    CUDA (immune to TF32 matmul settings). No gradient flows through.
    """
    if z_Nd.ndim != 2 or codebook_Kd.ndim != 2 or z_Nd.shape[1] != codebook_Kd.shape[1]:
        raise ValueError(f"expected z (N, d) and codebook (K, d), got {tuple(z_Nd.shape)} and "
                         f"{tuple(codebook_Kd.shape)}")
    if codebook_Kd.shape[0] == 0:
        raise ValueError("the codebook is empty")
    if bias_K is not None and bias_K.shape != (codebook_Kd.shape[0],):
        raise ValueError(f"bias must have shape ({codebook_Kd.shape[0]},), got {tuple(bias_K.shape)}")
    default_rows, default_codes = TILE_SHAPE.get(z_Nd.device.type, TILE_SHAPE["cpu"])
    row_chunk = default_rows if row_chunk is None else row_chunk
    code_tile = default_codes if code_tile is None else code_tile
    if row_chunk < 1 or code_tile < 1:
        raise ValueError(f"row_chunk and code_tile must be positive, got {row_chunk}, {code_tile}")
    bias = None if bias_K is None else bias_K.detach().float().contiguous()
    return torch.ops.slq.tiled_argmax_score(
        z_Nd.detach().float().contiguous(), codebook_Kd.detach().float().contiguous(), bias,
        row_chunk, code_tile,
    )


def nearest_l2(z_Nd: Tensor, codebook_Kd: Tensor, **tiling) -> Tensor:
    """Index of the codeword nearest in Euclidean distance: argmax of z·c − ½‖c‖² (fp32, ties low)."""
    codebook = codebook_Kd.detach().float()
    return argmax_score(z_Nd, codebook, -0.5 * codebook.square().sum(dim=1), **tiling)
