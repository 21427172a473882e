"""`FiniteScalarQuantizer` (FSQ): bound each channel with tanh and round it to one of `levels[i]` values.

FSQ: Mentzer et al., "Finite Scalar Quantization: VQ-VAE Made Simple" (arXiv 2309.15505).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional as F

from quantizers.base import (
    MixedRadix,
    Quantizer,
    require_codes_match,
    straight_through,
    zero_loss,
)

BOUND_MARGIN = 1e-3  # keeps tanh·half_levels strictly inside the outermost rounding cells


class FiniteScalarQuantizer(Quantizer):
    """FSQ with `levels` per channel; codebook size ∏ levels, index Σ_i digit_i · ∏_{j<i} levels_j.

    Channel i is bounded to (−L/2, L/2 − 1) for even L = levels[i] or (−(L−1)/2, (L−1)/2) for odd
    L via tanh, rounded (straight-through) to an integer, and divided by ⌊L/2⌋, so codes lie in
    [−1, 1]. Digit i is the rounded integer plus ⌊L/2⌋, in 0..L−1. There is no auxiliary loss.
    """

    def __init__(self, levels: Sequence[int], *, channel_first: bool = False,
                 check_finite: bool = True) -> None:
        levels = tuple(levels) if isinstance(levels, Sequence) and not isinstance(levels, str) else None
        if not levels or not all(isinstance(level, int) and level >= 2 for level in levels):
            raise ValueError("levels must be a non-empty sequence of integers ≥ 2")
        super().__init__(len(levels), math.prod(levels), channel_first=channel_first,
                         check_finite=check_finite)
        self.levels = levels
        self.digits_radix = MixedRadix(levels)
        levels_d = torch.tensor(levels, dtype=torch.float32)
        half_range_d = (levels_d - 1) * (1 + BOUND_MARGIN) / 2
        offset_d = (levels_d % 2 == 0).float() * 0.5
        self.register_buffer("half_width_d", torch.div(levels_d, 2, rounding_mode="floor"), persistent=False)
        self.register_buffer("half_range_d", half_range_d, persistent=False)
        self.register_buffer("offset_d", offset_d, persistent=False)
        self.register_buffer("shift_d", torch.atanh(offset_d / half_range_d), persistent=False)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, levels={self.levels}"

    def _quantize(self, z_Nd: Tensor) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        bounded_Nd = torch.tanh(z_Nd + self.shift_d) * self.half_range_d - self.offset_d
        rounded_Nd = torch.round(bounded_Nd.detach())
        quantized_Nd = straight_through(rounded_Nd, bounded_Nd) / self.half_width_d
        digits_Nd = (rounded_Nd + self.half_width_d).long()
        error = F.mse_loss(bounded_Nd.detach() / self.half_width_d, rounded_Nd / self.half_width_d)
        return quantized_Nd, self.digits_radix.encode(digits_Nd), zero_loss(z_Nd), {
            "quantization_mse": error}

    def _lookup(self, indices_N: Tensor) -> Tensor:
        digits_Nd = self.digits_radix.decode(indices_N)
        return (digits_Nd.float() - self.half_width_d) / self.half_width_d

    def _codes_to_indices(self, codes_Nd: Tensor, dtype: torch.dtype) -> Tensor:
        digits_Nd = torch.round(codes_Nd * self.half_width_d + self.half_width_d).long()
        if bool(((digits_Nd < 0) | (digits_Nd >= self.digits_radix.radix_G)).any()):
            raise ValueError("codes lie outside [-1, 1] on the FSQ grid: not codewords of this quantizer")
        indices_N = self.digits_radix.encode(digits_Nd)
        require_codes_match(codes_Nd, self._lookup(indices_N), dtype)
        return indices_N
