"""`VectorQuantizer`: learned codebook (EMA or gradient), exact tiled L2 search, dead-code restart, DDP-aware.

VQ-VAE with the EMA codebook update of its appendix: van den Oord, Vinyals & Kavukcuoglu, "Neural
Discrete Representation Learning" (arXiv 1711.00937); restarts of dead codes at batch inputs as in
Jukebox (Dhariwal et al., arXiv 2005.00341).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch import distributed as dist
from torch.nn import functional as F

from quantizers.base import Quantizer, finite_option, require_codes_match, squared_error_limit, straight_through
from quantizers.search import nearest_l2


def distributed_ready() -> bool:
    """True inside an initialized torch.distributed process group."""
    return dist.is_available() and dist.is_initialized()


class VectorQuantizer(Quantizer):
    """Nearest codeword in Euclidean distance from a learned codebook of `codebook_size` × `dim`.

    ema=True: the codebook is a persistent buffer updated in training mode by exponential moving
    averages (decay `decay`) of the assigned inputs' counts and sums, all-reduced over ranks
    under torch.distributed; loss = commitment_weight · mse(z, sg(code)).
    ema=False: the codebook is an nn.Parameter; loss = mse(sg(z), code) + commitment_weight ·
    mse(z, sg(code)).
    In both modes an EMA of the per-code counts is kept; with dead_code_threshold > 0, codes whose
    EMA count falls below it are restarted (in training mode) at random inputs of the batch drawn
    on rank 0 and broadcast. The forward value is the codeword before this step's update, so
    `indices_to_codes` reproduces it exactly in eval mode. Initial codes are N(0, init_std²) from
    `seed`. The search is exact in fp32 with ties to the lowest index.
    """

    def __init__(self, codebook_size: int, dim: int, *, ema: bool = True, decay: float = 0.99,
                 commitment_weight: float = 0.25, dead_code_threshold: float = 0.0,
                 epsilon: float = 1e-5, init_std: float = 1.0, seed: int = 0,
                 channel_first: bool = False, check_finite: bool = True) -> None:
        super().__init__(dim, codebook_size, channel_first=channel_first, check_finite=check_finite)
        decay = finite_option(decay, "decay")
        commitment_weight = finite_option(commitment_weight, "commitment_weight")
        dead_code_threshold = finite_option(dead_code_threshold, "dead_code_threshold")
        epsilon = finite_option(epsilon, "epsilon")
        init_std = finite_option(init_std, "init_std")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must lie in [0, 1), got {decay}")
        if dead_code_threshold < 0 or epsilon <= 0 or init_std <= 0:
            raise ValueError("dead_code_threshold must be ≥ 0, epsilon and init_std > 0")
        self.ema = bool(ema)
        self.decay = decay
        self.commitment_weight = commitment_weight
        self.dead_code_threshold = dead_code_threshold
        self.epsilon = epsilon
        self.generator = torch.Generator().manual_seed(seed)
        initial_Kd = torch.randn(codebook_size, dim, generator=self.generator) * init_std
        if self.ema:
            self.register_buffer("codebook", initial_Kd)
            self.register_buffer("embed_sum", initial_Kd.clone())
        else:
            self.codebook = nn.Parameter(initial_Kd)
        self.register_buffer("cluster_size", torch.ones(codebook_size))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, ema={self.ema}, decay={self.decay}"

    def search_backend(self, z: Tensor) -> str:
        return "tiled fp32 matmul"

    def _input_limit(self, numel: int) -> float:
        """The squared errors (z − code)² (weights commitment_weight + 1), for codewords within the
        same bound as the inputs (the EMA and restarts keep them there), so |z − code| ≤ 2·limit."""
        return squared_error_limit(numel, self.commitment_weight + 1.0) / 2.0

    def _quantize(self, z_Nd: Tensor) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        indices_N = nearest_l2(z_Nd, self.codebook)
        codes_Nd = self.codebook[indices_N].float()
        commitment = F.mse_loss(z_Nd, codes_Nd.detach())
        loss = self.commitment_weight * commitment
        if not self.ema:
            loss = loss + F.mse_loss(z_Nd.detach(), codes_Nd)
        stats = {"quantization_mse": commitment.detach()}
        quantized_Nd = straight_through(codes_Nd, z_Nd)
        if self.training:
            stats["dead_codes_restarted"] = self._update(z_Nd.detach(), indices_N)
        return quantized_Nd, indices_N, loss, stats

    @torch.no_grad()
    def _update(self, z_Nd: Tensor, indices_N: Tensor) -> Tensor:
        counts_K = torch.bincount(indices_N, minlength=self.codebook_size).float()
        if distributed_ready():
            dist.all_reduce(counts_K)
        self.cluster_size.lerp_(counts_K, 1 - self.decay)
        if self.ema:
            sums_Kd = torch.zeros_like(self.codebook, dtype=torch.float32).index_add_(0, indices_N, z_Nd)
            if distributed_ready():
                dist.all_reduce(sums_Kd)
            self.embed_sum.lerp_(sums_Kd, 1 - self.decay)
            total = self.cluster_size.sum()
            smoothed_K = (self.cluster_size + self.epsilon) / (total + self.codebook_size * self.epsilon) * total
            self.codebook.copy_(self.embed_sum / smoothed_K[:, None])
        return self._restart_dead_codes(z_Nd)

    def _restart_dead_codes(self, z_Nd: Tensor) -> Tensor:
        if not self.dead_code_threshold:
            return z_Nd.new_zeros((), dtype=torch.int64)
        dead_K = self.cluster_size < self.dead_code_threshold
        dead_count = int(dead_K.sum())  # equal on all ranks: cluster_size is all-reduced
        if dead_count:
            picks = torch.randint(z_Nd.shape[0], (dead_count,), generator=self.generator)
            replacement_Dd = z_Nd[picks.to(z_Nd.device)]
            if distributed_ready():
                dist.broadcast(replacement_Dd, src=0)
            self.codebook.data[dead_K] = replacement_Dd.to(self.codebook.dtype)
            self.cluster_size[dead_K] = 1.0
            if self.ema:
                self.embed_sum[dead_K] = replacement_Dd
        return torch.tensor(dead_count, device=z_Nd.device)

    def _lookup(self, indices_N: Tensor) -> Tensor:
        return self.codebook.detach()[indices_N].float()

    def _codes_to_indices(self, codes_Nd: Tensor, dtype: torch.dtype) -> Tensor:
        indices_N = nearest_l2(codes_Nd, self.codebook)
        require_codes_match(codes_Nd, self._lookup(indices_N), dtype)
        return indices_N
