"""Token layout and teacher-forcing inputs of next-scale prediction (VAR, Tian et al. 2024, arXiv 2404.02905, §3).

Scale k+1 sees the area-downsample to its size of f̂_≤k = Σ_{j≤k} φ_j(upsample(codes_j)), built
with `MultiScaleResidualQuantizer.scale_contribution`, i.e. the very operations of the
tokenizer's quantizer, so that f̂ after the last scale equals `quantizer.indices_to_codes`.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional as F

from quantizers.multiscale import MultiScaleResidualQuantizer


def check_index_maps(indices: Sequence[Tensor], sizes: Sequence[tuple[int, int]]) -> int:
    """The batch size of per-scale index maps (B, h_k, w_k); ValueError if they do not fit `sizes`."""
    if len(indices) != len(sizes):
        raise ValueError(f"expected {len(sizes)} index maps (one per scale), got {len(indices)}")
    batch = indices[0].shape[0] if isinstance(indices[0], Tensor) and indices[0].ndim == 3 else None
    for scale, (index_map, size) in enumerate(zip(indices, sizes)):
        if not isinstance(index_map, Tensor) or index_map.dtype != torch.int64:
            raise TypeError(f"index map {scale} must be an int64 tensor")
        if index_map.ndim != 3 or index_map.shape[0] != batch or tuple(index_map.shape[1:]) != tuple(size):
            raise ValueError(f"index map {scale} must have shape ({batch}, {size[0]}, {size[1]}), "
                             f"got {tuple(index_map.shape)}")
    if not batch:
        raise ValueError("index maps must have a batch of at least one image")
    return batch


def flatten_scales(indices: Sequence[Tensor]) -> Tensor:
    """Targets (B, L) int64: the index maps of all scales, each row-major, scale after scale."""
    return torch.cat([index_map.flatten(1) for index_map in indices], dim=1)


def next_scale_input(f_hat_BdHW: Tensor, size: tuple[int, int]) -> Tensor:
    """Tokens (B, h·w, d) for a scale of `size`: f̂ area-downsampled to it, row-major."""
    if tuple(f_hat_BdHW.shape[2:]) != tuple(size):
        f_hat_BdHW = F.interpolate(f_hat_BdHW, size=size, mode="area")
    return f_hat_BdHW.flatten(2).transpose(1, 2)


@torch.no_grad()
def teacher_forcing_inputs(quantizer: MultiScaleResidualQuantizer, indices: Sequence[Tensor],
                           dtype: torch.dtype = torch.float32) -> Tensor:
    """Inputs (B, L − l₀, d) of scales 1..K−1 (scale 0's input is the class start token), without
    gradient: the tokenizer's φ stays fixed while the generator trains."""
    if not isinstance(quantizer, MultiScaleResidualQuantizer):
        raise TypeError(f"quantizer must be a MultiScaleResidualQuantizer, got {type(quantizer).__name__}")
    check_index_maps(indices, quantizer.sizes)
    f_hat_BdHW, inputs = None, []
    for scale, index_map in enumerate(indices[:-1]):
        term_BdHW = quantizer.scale_contribution(index_map, scale, dtype)
        f_hat_BdHW = term_BdHW if f_hat_BdHW is None else f_hat_BdHW + term_BdHW
        inputs.append(next_scale_input(f_hat_BdHW, quantizer.sizes[scale + 1]))
    if not inputs:
        return indices[0].new_zeros((indices[0].shape[0], 0, quantizer.dim), dtype=dtype)
    return torch.cat(inputs, dim=1)
