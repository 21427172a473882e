"""`MultiScaleResidualQuantizer`: VAR/Infinity-style residual quantization over a schedule of scales.

VAR: Tian et al., "Visual Autoregressive Modeling: Scalable Image Generation via Next-Scale
Prediction" (arXiv 2404.02905), with its φ refiners; Infinity: Han et al., "Infinity: Scaling
Bitwise AutoRegressive Modeling for High-Resolution Image Synthesis" (arXiv 2412.04431).
"""
from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from quantizers.base import (
    Quantizer,
    QuantizerOutput,
    finite_option,
    require_finite,
    require_tensor,
    squared_error_limit,
    straight_through,
)

DEFAULT_SCALES = (1, 2, 3, 4, 5, 6, 8, 10, 13, 16)
PHI_MODES = ("none", "shared", "partial", "unshared")
UPSAMPLE_MODES = ("bicubic", "bilinear")


class MultiScaleOutput(QuantizerOutput):
    """`QuantizerOutput` of the multi-scale quantizer: quantized: f's shape and dtype (straight-through);
    indices: a list of one (B, h_k, w_k) int64 map per scale; loss: scalar; stats (attribute): detached
    scalars. Unpacks as `quantized, indices, loss = msrq(f)`."""


class PhiRefiner(nn.Conv2d):
    """VAR's φ: h ↦ (1 − ratio)·h + ratio·conv3×3(h), a residual refinement of upsampled codes.
    The conv runs in its weights' dtype (outside autocast: float32), whatever h's dtype."""

    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__(dim, dim, kernel_size=3, padding=1)
        self.ratio = finite_option(ratio, "phi_ratio")

    def forward(self, h_BdHW: Tensor) -> Tensor:
        refined_BdHW = super().forward(h_BdHW.to(self.weight.dtype)).to(h_BdHW.dtype)
        return h_BdHW * (1 - self.ratio) + refined_BdHW * self.ratio


def _scale_sizes(scales: Sequence[int | tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    sizes = []
    for scale in scales:
        size = (scale, scale) if isinstance(scale, int) else tuple(scale)
        if len(size) != 2 or not all(isinstance(side, int) and side >= 1 for side in size):
            raise ValueError(f"each scale must be a positive int or an (h, w) pair, got {scale!r}")
        sizes.append(size)
    if not sizes:
        raise ValueError("scales must not be empty")
    return tuple(sizes)


class MultiScaleResidualQuantizer(nn.Module):
    """Quantize a feature map f (B, H, W, d) — or (B, d, H, W) with channel_first — scale by scale.

    For scale k of size (h_k, w_k): the residual r = f − f̂ is area-downsampled to (h_k, w_k),
    quantized by the wrapped quantizer (any quantizer of this package), its codes upsampled
    (bicubic or bilinear) to (H, W), refined by φ and added to f̂. The last scale must equal
    (H, W). φ is "none", "shared" (one conv), "partial" (`phi_count` convs; scale k uses the
    one whose tick in linspace(1/(3n), 1 − 1/(3n), n) is nearest to k/(K − 1), as in VAR, in exact
    rational arithmetic with ties to the lower tick) or
    "unshared" (one per scale).

    Gradients: the output is f̂ with a straight-through gradient to f; φ (and a learned inner
    codebook) learn from loss = mean_k [β·mse(sg f̂_k, f) + mse(f̂_k, sg f)] + mean_k inner
    loss_k, with β = commitment_weight; the residual fed to the inner quantizer is f − sg(f̂),
    so inner losses reach the encoder. `indices_to_codes(indices)` rebuilds f̂ from the index
    maps with the same operations, equal to the forward value (under the same dtype/autocast).
    """

    def __init__(self, quantizer: Quantizer, scales: Sequence[int | tuple[int, int]] = DEFAULT_SCALES, *,
                 upsample: str = "bicubic", phi: str = "partial", phi_count: int = 4,
                 phi_ratio: float = 0.5, commitment_weight: float = 0.25,
                 channel_first: bool = False) -> None:
        super().__init__()
        if not isinstance(quantizer, Quantizer):
            raise TypeError(f"quantizer must be a quantizers.Quantizer, got {type(quantizer).__name__}")
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")
        if phi not in PHI_MODES:
            raise ValueError(f"phi must be one of {PHI_MODES}, got {phi!r}")
        if not isinstance(phi_count, int) or phi_count < 1:
            raise ValueError(f"phi_count must be a positive integer, got {phi_count!r}")
        self.quantizer = quantizer
        self.sizes = _scale_sizes(scales)
        self.upsample = upsample
        self.commitment_weight = finite_option(commitment_weight, "commitment_weight")
        self.channel_first = bool(channel_first)
        self.dim = quantizer.dim
        self.codebook_size = quantizer.codebook_size
        refiners = {"none": 0, "shared": 1, "partial": phi_count, "unshared": len(self.sizes)}[phi]
        self.phi = nn.ModuleList(PhiRefiner(self.dim, phi_ratio) for _ in range(refiners))
        self.phi_of_scale = self._assign_phi(phi, refiners)

    @property
    def bits(self) -> float:
        """Bits per token of the wrapped quantizer."""
        return self.quantizer.bits

    @property
    def num_tokens(self) -> int:
        """Tokens per image over all scales, Σ h_k·w_k."""
        return sum(h * w for h, w in self.sizes)

    def _assign_phi(self, mode: str, refiners: int) -> tuple[int | None, ...]:
        count = len(self.sizes)
        if mode == "none":
            return (None,) * count
        if mode != "partial":
            return tuple(min(k, refiners - 1) for k in range(count))
        first_tick = Fraction(1, 3 * refiners)
        step = (1 - 2 * first_tick) / (refiners - 1) if refiners > 1 else Fraction(0)
        ticks = [first_tick + j * step for j in range(refiners)]
        positions = [Fraction(k, count - 1) if count > 1 else Fraction(0) for k in range(count)]
        return tuple(min(range(refiners), key=lambda j: (abs(ticks[j] - position), j)) for position in positions)

    # layout helpers ----------------------------------------------------------------------------
    def _features(self, f: Tensor) -> Tensor:
        require_tensor(f, "f")
        if not f.is_floating_point():
            raise TypeError(f"f must be a floating-point tensor, got dtype {f.dtype}")
        layout = "(B, d, H, W)" if self.channel_first else "(B, H, W, d)"
        if f.ndim != 4:
            raise ValueError(f"f must have layout {layout}, got shape {tuple(f.shape)}")
        f_BdHW = f if self.channel_first else f.permute(0, 3, 1, 2)
        if f_BdHW.shape[1] != self.dim or tuple(f_BdHW.shape[2:]) != self.sizes[-1]:
            raise ValueError(f"f must have layout {layout} with d={self.dim} and (H, W)={self.sizes[-1]} "
                             f"(the last scale), got shape {tuple(f.shape)}")
        if f.numel() == 0:
            raise ValueError(f"f is empty (shape {tuple(f.shape)})")
        return f_BdHW

    def _output(self, x_BdHW: Tensor) -> Tensor:
        return x_BdHW if self.channel_first else x_BdHW.permute(0, 2, 3, 1)

    def _to_inner(self, x_Bdhw: Tensor) -> Tensor:
        return x_Bdhw if self.quantizer.channel_first else x_Bdhw.permute(0, 2, 3, 1)

    def _from_inner(self, codes: Tensor) -> Tensor:
        return codes if self.quantizer.channel_first else codes.permute(0, 3, 1, 2)

    def _contribution(self, codes_Bdhw: Tensor, scale: int) -> Tensor:
        """Upsampled and φ-refined codes of one scale: the term added to f̂."""
        size = self.sizes[-1]
        if tuple(codes_Bdhw.shape[2:]) != size:
            codes_Bdhw = F.interpolate(codes_Bdhw, size=size, mode=self.upsample, align_corners=False)
        refiner = self.phi_of_scale[scale]
        return codes_Bdhw if refiner is None else self.phi[refiner](codes_Bdhw)

    # protocol ----------------------------------------------------------------------------------
    def forward(self, f: Tensor) -> MultiScaleOutput:
        f_BdHW = self._features(f)
        if self.quantizer.check_finite:  # the limit keeps mse(f̂, f) finite for f̂ within it too
            require_finite(f_BdHW, "f", squared_error_limit(f.numel(), self.commitment_weight + 1.0) / 2.0)
        f_hat = torch.zeros_like(f_BdHW)
        indices, commitment_terms, inner_losses = [], [], []
        for scale, size in enumerate(self.sizes):
            residual = f_BdHW - f_hat.detach()
            if size != self.sizes[-1]:
                residual = F.interpolate(residual, size=size, mode="area")
            out = self.quantizer(self._to_inner(residual))
            f_hat = f_hat + self._contribution(self._from_inner(out.quantized.detach()), scale)
            indices.append(out.indices)
            inner_losses.append(out.loss)
            commitment_terms.append(self.commitment_weight * F.mse_loss(f_hat.detach(), f_BdHW)
                                    + F.mse_loss(f_hat, f_BdHW.detach()))
        loss = torch.stack(commitment_terms).mean() + torch.stack(inner_losses).mean()
        stats = {"quantization_mse": F.mse_loss(f_hat.detach(), f_BdHW.detach())}
        return MultiScaleOutput(self._output(straight_through(f_hat, f_BdHW)), indices, loss, stats)

    def indices_to_codes(self, indices: Sequence[Tensor], dtype: torch.dtype = torch.float32) -> Tensor:
        """f̂ from per-scale index maps (B, h_k, w_k), in the forward output's layout."""
        if not isinstance(indices, (list, tuple)) or not all(isinstance(m, Tensor) for m in indices):
            kinds = (f" of {', '.join(sorted({type(m).__name__ for m in indices}))}"
                     if isinstance(indices, (list, tuple)) else "")
            raise TypeError("indices must be a list of index tensors, one (B, h_k, w_k) map per scale; "
                            f"got a {type(indices).__name__}{kinds}")
        if len(indices) != len(self.sizes):
            raise ValueError(f"expected {len(self.sizes)} index maps (one per scale), got {len(indices)}")
        batch = indices[0].shape[0] if indices[0].ndim else None
        f_hat = None
        for scale, (index_map, size) in enumerate(zip(indices, self.sizes)):
            if index_map.ndim != 3 or index_map.shape[0] != batch or tuple(index_map.shape[1:]) != size:
                raise ValueError(f"index map {scale} must have shape ({batch}, {size[0]}, {size[1]}), "
                                 f"got {tuple(index_map.shape)}")
            term = self.scale_contribution(index_map, scale, dtype)
            f_hat = term if f_hat is None else f_hat + term
        return self._output(f_hat)

    def scale_contribution(self, index_map: Tensor, scale: int, dtype: torch.dtype = torch.float32) -> Tensor:
        """The term that scale `scale`'s index map (B, h_k, w_k) adds to f̂: its codes upsampled to
        (H, W) and φ-refined, channel-first (B, d, H, W) whatever `channel_first`; Σ over scales,
        in layout, is `indices_to_codes`. A next-scale generator rebuilds its inputs from these."""
        codes = self._from_inner(self.quantizer.indices_to_codes(index_map, dtype=dtype))
        return self._contribution(codes, scale)
