"""Sign quantizers: BSQ (binary spherical, codes {±1}^d/√d on the sphere) and LFQ (lookup-free, codes {±1}^d).

BSQ: Zhao, Xiong & Krähenbühl, "Image and Video Tokenization with Binary Spherical Quantization"
(arXiv 2406.07548). LFQ: Yu et al., "Language Model Beats Diffusion — Tokenizer is Key to Visual
Generation" (MAGVIT-v2, arXiv 2310.05737).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

from quantizers.base import (
    FLOAT32_MAX,
    MixedRadix,
    Quantizer,
    finite_option,
    normalize_rows,
    require_codes_match,
    squared_error_limit,
    straight_through,
    zero_loss,
)

MAX_SIGN_DIM = 62  # 2^62 codes: the largest power of two below the int64 limit


MAX_ENTROPY_GROUP_SIZE = 16  # 2^16 sub-codes per group: the soft assignments cost N·dim/g·2^g floats


def sign_patterns(group_size: int) -> Tensor:
    """All 2^g sign vectors of a group, (g, 2^g) float32 ±1; column k has +1 at bit i iff bit i of k is set."""
    bits_gK = (torch.arange(2**group_size)[None, :] >> torch.arange(group_size)[:, None]) & 1
    return (2 * bits_gK - 1).float()


def grouped_entropy_terms(logits_Nd: Tensor, signs_gK: Tensor) -> tuple[Tensor, Tensor]:
    """(mean per-sample entropy, codebook entropy) in nats of the soft code assignment, BSQ style.

    Bit i of sample n is +1 with probability sigmoid(logits[n, i]), independently, so the
    assignment of each group of g consecutive bits to its 2^g sub-codes s is the softmax of
    Σ_i s_i · logits_i / 2. The per-sample entropy is exact (a product distribution's entropy is
    the sum of its bits'). The codebook entropy is Σ_groups H(mean_n q_n(sub-code)), computed
    exactly within each group over all 2^g sub-codes (Zhao et al., arXiv 2406.07548, Sec. 3.3):
    g = 1 is the per-bit form Σ_i H(mean_n p_ni), which correlated bits can maximize with 2 codes;
    g = dim is the exact entropy of the mean code distribution. `signs_gK` is `sign_patterns(g)`.
    Computed in float32 (float64 inputs stay float64) with autocast off.
    """
    group_size = signs_gK.shape[0]
    with torch.autocast(logits_Nd.device.type, enabled=False):
        logits_Nd = logits_Nd if logits_Nd.dtype == torch.float64 else logits_Nd.float()
        p_Nd = torch.sigmoid(logits_Nd)
        per_sample = (p_Nd * F.softplus(-logits_Nd) + (1 - p_Nd) * F.softplus(logits_Nd)).sum(dim=1).mean()
        half_logits_NGg = 0.5 * logits_Nd.reshape(logits_Nd.shape[0], -1, group_size)
        scores_NGK = half_logits_NGg @ signs_gK.to(logits_Nd.dtype)
        mean_GK = torch.softmax(scores_NGK, dim=-1).mean(dim=0)
        codebook = -torch.special.xlogy(mean_GK, mean_GK).sum()
    return per_sample, codebook


def check_sign_dim(dim: int) -> int:
    """`dim` if it is an integer in [1, MAX_SIGN_DIM], else ValueError."""
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_SIGN_DIM:
        raise ValueError(f"dim must be an integer in [1, {MAX_SIGN_DIM}] (2^dim codes), got {dim!r}")
    return dim


class SignQuantizer(Quantizer):
    """Quantize each channel to its sign: code = ±scale per channel, index = Σ_i [z_i > 0] · 2^i.

    `normalize` L2-normalizes the input first (BSQ); zero channels map to −scale (bit 0), so a
    zero vector gets index 0. `loss` = commitment_weight · mse(input, code) + entropy_weight ·
    (per-sample entropy − entropy_gamma · codebook entropy) of the soft assignment
    q(c | u) ∝ exp(−inverse_temperature · ‖u − c‖²) (BSQ, arXiv 2406.07548, Eq. 7), whose
    codebook entropy is computed exactly within groups of `entropy_group_size` consecutive bits
    (see `grouped_entropy_terms`; 1 = per bit). The group size must divide `dim`.
    """

    def __init__(self, dim: int, *, normalize: bool, scale: float, inverse_temperature: float,
                 entropy_weight: float = 0.0, entropy_gamma: float = 1.0, entropy_group_size: int = 1,
                 commitment_weight: float = 0.0, channel_first: bool = False, check_finite: bool = True) -> None:
        super().__init__(check_sign_dim(dim), 2**dim, channel_first=channel_first, check_finite=check_finite)
        if (isinstance(entropy_group_size, bool) or not isinstance(entropy_group_size, int)
                or not 1 <= entropy_group_size <= MAX_ENTROPY_GROUP_SIZE or dim % entropy_group_size):
            raise ValueError(f"entropy_group_size must be an integer in [1, {MAX_ENTROPY_GROUP_SIZE}] that "
                             f"divides dim={dim}, got {entropy_group_size!r}")
        options = {name: finite_option(value, name) for name, value in (
            ("inverse_temperature", inverse_temperature), ("entropy_weight", entropy_weight),
            ("entropy_gamma", entropy_gamma), ("commitment_weight", commitment_weight))}
        negative = [f"{name}={value}" for name, value in options.items() if value < 0]
        if negative:
            raise ValueError(f"{', '.join(negative)}: these options must be non-negative")
        self.normalize = normalize
        self.scale = float(scale)
        self.inverse_temperature = options["inverse_temperature"]
        self.entropy_weight = options["entropy_weight"]
        self.entropy_gamma = options["entropy_gamma"]
        self.commitment_weight = options["commitment_weight"]
        self.entropy_group_size = entropy_group_size
        self.bits_radix = MixedRadix([2] * dim)
        self.register_buffer("signs_gK", sign_patterns(entropy_group_size), persistent=False)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, entropy_group_size={self.entropy_group_size}"

    def _input_limit(self, numel: int) -> float:
        """LFQ: the squared errors (z − code)² and the entropy logits 2·β·scale·z grow with |z|;
        BSQ's unit rows keep every term bounded."""
        if self.normalize:
            return math.inf
        limit = squared_error_limit(numel, self.commitment_weight) - self.scale
        logit_factor = 2.0 * abs(self.inverse_temperature) * self.scale
        if self.entropy_weight and logit_factor:
            limit = min(limit, FLOAT32_MAX / (4.0 * logit_factor))
        return limit

    def _codes_of_bits(self, bits_Nd: Tensor) -> Tensor:
        return torch.where(bits_Nd, self.scale, -self.scale).float()

    def _quantize(self, z_Nd: Tensor) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        u_Nd = normalize_rows(z_Nd) if self.normalize else z_Nd
        bits_Nd = u_Nd.detach() > 0
        codes_Nd = self._codes_of_bits(bits_Nd)
        stats = {"quantization_mse": F.mse_loss(u_Nd.detach(), codes_Nd)}
        loss = zero_loss(z_Nd)
        if self.commitment_weight:
            loss = loss + self.commitment_weight * F.mse_loss(u_Nd, codes_Nd)
        if self.entropy_weight:
            # log q(+s)/q(−s) per bit = −τ((u − s)² − (u + s)²) = 4τ·s·u
            logits_Nd = 4 * self.inverse_temperature * self.scale * u_Nd
            per_sample, codebook = grouped_entropy_terms(logits_Nd, self.signs_gK)
            loss = loss + self.entropy_weight * (per_sample - self.entropy_gamma * codebook)
            stats.update(per_sample_entropy=per_sample.detach(), codebook_entropy=codebook.detach())
        return straight_through(codes_Nd, u_Nd), self.bits_radix.encode(bits_Nd), loss, stats

    def _lookup(self, indices_N: Tensor) -> Tensor:
        return self._codes_of_bits(self.bits_radix.decode(indices_N).bool())

    def _codes_to_indices(self, codes_Nd: Tensor, dtype: torch.dtype) -> Tensor:
        indices_N = self.bits_radix.encode(codes_Nd > 0)
        require_codes_match(codes_Nd, self._lookup(indices_N), dtype)
        return indices_N


class BinarySphericalQuantizer(SignQuantizer):
    """BSQ (Zhao et al., arXiv 2406.07548): L2-normalize, then sign per channel with codes ±1/√dim
    (unit norm); 2^dim codes.

    Defaults of the paper's code (github.com/zhaoyue-zephyrus/bsq-vit): inverse temperature τ = 1
    in q(c | u) ∝ exp(−τ‖u − c‖²) and weight 1 on both entropies (entropy_gamma = 1); its
    tokenizers use entropy_weight 0.1 and, for dim = 18, entropy_group_size = 9 (2 groups of 512
    sub-codes). With τ = 1 the bit logits 4u_i/√dim are small (|u_i| ≈ 1/√dim): the assignment is
    soft. The per-bit form that collapsed to 2 codes in docs/results/tokenizer-ablation.md was
    entropy_group_size = 1 with τ = dim/2.
    """

    def __init__(self, dim: int, *, inverse_temperature: float = 1.0, **options) -> None:
        dim = check_sign_dim(dim)
        super().__init__(dim, normalize=True, scale=1.0 / math.sqrt(dim),
                         inverse_temperature=inverse_temperature, **options)


class LookupFreeQuantizer(SignQuantizer):
    """LFQ (Yu et al., MAGVIT-v2, arXiv 2310.05737): sign per channel with codes ±1 (no
    normalization); 2^dim codes.

    The default inverse temperature 1/2 gives entropy logits 2·z_i, of order one for
    unit-variance inputs.
    """

    def __init__(self, dim: int, *, inverse_temperature: float = 0.5, **options) -> None:
        super().__init__(dim, normalize=False, scale=1.0, inverse_temperature=inverse_temperature, **options)
