"""`SphericalCodeQuantizer`: nearest codeword of a fixed spherical code (optionally a product over channel groups).

The codes and their sources are in `lattices.spherical`: E8 shells (Conway & Sloane, "Sphere
Packings, Lattices and Groups", ch. 4 §8), the generalized spherical Fibonacci code (González 2010,
Math. Geosci. 42; Keinert et al. 2015, ACM TOG 34(6); Roberts' R_d sequence, 2018) and random
codes of normalized Gaussian vectors, the frozen codebook of BEST-RQ (Chiu et al., arXiv 2202.01855).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

from lattices.codebook import Codebook
from quantizers.base import (
    MixedRadix,
    Quantizer,
    finite_option,
    normalize_rows,
    require_codes_match,
    straight_through,
    zero_loss,
)
from quantizers.search import argmax_score


class SphericalCodeQuantizer(Quantizer):
    """Quantize L2-normalized inputs to the nearest unit codeword (maximum inner product).

    With `groups` > 1 it is a product code: the channels are split into `groups` consecutive
    slices of the codebook's dimension, each slice is normalized and quantized on its own, the
    codes are scaled by 1/√groups (so the whole code has unit norm) and the per-group indices
    form one mixed-radix int64 index Σ_g i_g · K^g (group 0 least significant).

    The codebook is a non-persistent fp32 buffer rebuilt by the constructor, so a state_dict
    stays small. The search is exact in fp32 with ties to the lowest index. A zero input vector
    (or zero group) is quantized to codeword 0 with an identity straight-through gradient.
    `loss` is `commitment_weight` · mean squared distance between normalized input and code.
    """

    def __init__(self, codebook: Codebook, *, groups: int = 1, commitment_weight: float = 0.0,
                 channel_first: bool = False, check_finite: bool = True) -> None:
        if not isinstance(codebook, Codebook):
            raise TypeError(f"codebook must be a lattices.codebook.Codebook, got {type(codebook).__name__}")
        if not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups must be a positive integer, got {groups!r}")
        if codebook.size**groups >= 2**63:
            raise ValueError(f"{groups} groups of {codebook.size} codewords give {codebook.size}^{groups} "
                             "codes, more than an int64 index can address")
        super().__init__(codebook.dim * groups, codebook.size**groups, channel_first=channel_first,
                         check_finite=check_finite)
        self.codebook_name = codebook.name
        self.groups = groups
        self.group_dim = codebook.dim
        self.group_size = codebook.size
        self.group_scale = 1.0 / math.sqrt(groups)
        self.commitment_weight = finite_option(commitment_weight, "commitment_weight")
        self.group_radix = MixedRadix([codebook.size] * groups)
        self.register_buffer("codebook", torch.tensor(codebook.vectors, dtype=torch.float32), persistent=False)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, codebook={self.codebook_name!r}, groups={self.groups}"

    def search_backend(self, z: Tensor) -> str:
        return "tiled fp32 matmul"

    def _nearest(self, u_Mg: Tensor) -> Tensor:
        """Position of the nearest codeword per unit row (fp32, ties to the lowest position)."""
        return argmax_score(u_Mg, self.codebook)

    def _index_from_position(self, position_M: Tensor) -> Tensor:
        """Per-group index exposed to users for a codebook row; identity unless a subclass reorders."""
        return position_M

    def _position_from_index(self, index_M: Tensor) -> Tensor:
        """Inverse of `_index_from_position`."""
        return index_M

    def _scaled(self, codes: Tensor) -> Tensor:
        """Group codes times 1/√groups (no-op for one group)."""
        return codes * self.group_scale if self.groups > 1 else codes

    def _quantize(self, z_Nd: Tensor) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        one_group = self.groups == 1  # then rows are groups: no reshapes (each is an autograd node)
        u_Mg = normalize_rows(z_Nd if one_group else z_Nd.reshape(-1, self.group_dim))
        position_M = self._nearest(u_Mg)
        codes_Mg = self.codebook.index_select(0, position_M)
        quantized_Mg = straight_through(codes_Mg, u_Mg)
        error = F.mse_loss(u_Mg.detach(), codes_Mg)
        if self.commitment_weight:
            loss = self.commitment_weight * F.mse_loss(u_Mg, codes_Mg)
        else:
            loss = zero_loss(z_Nd)
        group_index_M = self._index_from_position(position_M)
        if one_group:
            return quantized_Mg, group_index_M, loss, {"quantization_mse": error}
        quantized_Nd = self._scaled(quantized_Mg).reshape(-1, self.dim)
        indices_N = self.group_radix.encode(group_index_M.reshape(-1, self.groups))
        return quantized_Nd, indices_N, loss, {"quantization_mse": error * self.group_scale**2}

    def _lookup(self, indices_N: Tensor) -> Tensor:
        group_index_NG = self.group_radix.decode(indices_N)
        codes_NGg = self.codebook[self._position_from_index(group_index_NG)]
        return self._scaled(codes_NGg).reshape(-1, self.dim)

    def _codes_to_indices(self, codes_Nd: Tensor, dtype: torch.dtype) -> Tensor:
        position_M = self._nearest(codes_Nd.reshape(-1, self.group_dim) / self.group_scale)
        indices_N = self.group_radix.encode(self._index_from_position(position_M).reshape(-1, self.groups))
        require_codes_match(codes_Nd, self._lookup(indices_N), dtype)
        return indices_N
