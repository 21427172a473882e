"""Sign quantizers: BSQ (binary spherical, codes {±1}^d/√d on the sphere) and LFQ (lookup-free, codes {±1}^d)."""
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


def binary_entropy(p: Tensor) -> Tensor:
    """Entropy (nats) of Bernoulli(p), elementwise, 0 at p ∈ {0, 1}."""
    return -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p))


def factorized_entropy_terms(logits_Nd: Tensor) -> tuple[Tensor, Tensor]:
    """(mean per-sample entropy, entropy of the mean code distribution) of independent bits.

    Bit i of sample n is +1 with probability sigmoid(logits[n, i]); the per-sample entropy is
    exact for such product distributions, the codebook entropy uses the factorized
    approximation Σ_i H(mean_n p_ni) (an upper bound of the exact entropy of the mixture).
    """
    p_Nd = torch.sigmoid(logits_Nd)
    per_sample = (p_Nd * F.softplus(-logits_Nd) + (1 - p_Nd) * F.softplus(logits_Nd)).sum(dim=1).mean()
    codebook = binary_entropy(p_Nd.mean(dim=0)).sum()
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
    (per-sample entropy − entropy_gamma · codebook entropy), with the code distribution
    ∝ exp(inverse_temperature · input·code), which factorizes over bits (see
    `factorized_entropy_terms`).
    """

    def __init__(self, dim: int, *, normalize: bool, scale: float, inverse_temperature: float,
                 entropy_weight: float = 0.0, entropy_gamma: float = 1.0, commitment_weight: float = 0.0,
                 channel_first: bool = False, check_finite: bool = True) -> None:
        super().__init__(check_sign_dim(dim), 2**dim, channel_first=channel_first, check_finite=check_finite)
        self.normalize = normalize
        self.scale = float(scale)
        self.inverse_temperature = finite_option(inverse_temperature, "inverse_temperature")
        self.entropy_weight = finite_option(entropy_weight, "entropy_weight")
        self.entropy_gamma = finite_option(entropy_gamma, "entropy_gamma")
        self.commitment_weight = finite_option(commitment_weight, "commitment_weight")
        self.bits_radix = MixedRadix([2] * dim)

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
            per_sample, codebook = factorized_entropy_terms(2 * self.inverse_temperature * self.scale * u_Nd)
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
    """BSQ: L2-normalize, then sign per channel with codes ±1/√dim (unit norm); 2^dim codes.

    The default inverse temperature `dim` makes the entropy logits 2√dim·u_i of order one for a
    typical unit vector (|u_i| ≈ 1/√dim).
    """

    def __init__(self, dim: int, *, inverse_temperature: float | None = None, **options) -> None:
        dim = check_sign_dim(dim)
        super().__init__(dim, normalize=True, scale=1.0 / math.sqrt(dim),
                         inverse_temperature=dim if inverse_temperature is None else inverse_temperature,
                         **options)


class LookupFreeQuantizer(SignQuantizer):
    """LFQ: sign per channel with codes ±1 (no normalization); 2^dim codes.

    The default inverse temperature 1 gives entropy logits 2·z_i, of order one for unit-variance
    inputs.
    """

    def __init__(self, dim: int, *, inverse_temperature: float = 1.0, **options) -> None:
        super().__init__(dim, normalize=False, scale=1.0, inverse_temperature=inverse_temperature, **options)
