"""`IdentityQuantizer`: no quantization, the L2-normalized latent passes through (continuous tokenizers)."""
from __future__ import annotations

import torch
from torch import Tensor

from quantizers.base import Quantizer, normalize_rows, zero_loss

NO_CODES = ("the identity quantizer has no codebook: its latents are continuous and its indices (all 0) "
            "carry no information")


class IdentityQuantizer(Quantizer):
    """`quantized` = the input scaled to unit L2 norm per token (gradient through the normalization).

    For training a continuous tokenizer with the same model and trainer as the quantized ones (e.g.
    to quantize its latents post hoc, `slq posthoc-geometry`). There are no tokens: `indices` are
    all 0, `codebook_size` is 1 (0 bits: the fixed-rate bit count does not describe a continuous
    latent), `loss` is 0, `quantization_mse` is 0, and `indices_to_codes` / `codes_to_indices` raise
    ValueError.
    """

    def __init__(self, dim: int, *, channel_first: bool = False, check_finite: bool = True) -> None:
        super().__init__(dim, 1, channel_first=channel_first, check_finite=check_finite)

    def search_backend(self, z: Tensor) -> str:
        return "none (continuous)"

    def _quantize(self, z_Nd: Tensor) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        indices_N = torch.zeros(z_Nd.shape[0], dtype=torch.int64, device=z_Nd.device)
        return normalize_rows(z_Nd), indices_N, zero_loss(z_Nd), {"quantization_mse": zero_loss(z_Nd)}

    def _lookup(self, indices_N: Tensor) -> Tensor:
        raise ValueError(NO_CODES)

    def _codes_to_indices(self, codes_Nd: Tensor, dtype: torch.dtype) -> Tensor:
        raise ValueError(NO_CODES)
