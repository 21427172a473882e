"""Output heads of the next-scale generator: `full` (V-way softmax), `factorized` (Λ24: 24 × 9-way), `bits` (BSQ).

`full` trains with the fused chunked linear cross-entropy plus Z-loss (PaLM, arXiv 2204.02311).
`factorized` predicts the 24 integer coordinates (−4…4 after √8 scaling) of a Λ24 minimal
vector (Conway & Sloane, SPLAG ch. 4) as independent 9-way softmaxes. `bits` predicts one
Bernoulli logit per bit of a BSQ/LFQ index, as Infinity (Han et al. 2024, arXiv 2412.04431).

Every head has: `loss(hidden_ND, target_N)` → scalar; `predict(hidden_ND)` → greedy indices
(N,); `logits(hidden_ND)` → the head's logit tensor, which classifier-free guidance combines
linearly; `sample(logits, temperature, top_k, top_p, generator)` → indices (N,); `chunk_rows`,
the rows per call that keep the head's (rows × V) buffers within its memory budget.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from models.generator.categorical import sample_categorical
from models.generator.fused_cross_entropy import (
    DEFAULT_MEMORY_BUDGET_BYTES,
    chunk_rows,
    fused_linear_cross_entropy,
)
from quantizers.base import Quantizer
from quantizers.binary import SignQuantizer
from quantizers.leech24 import NUM_DIGIT_LABELS, Leech24Quantizer
from quantizers.multiscale import MultiScaleResidualQuantizer

HEAD_KINDS = ("full", "factorized", "bits")
DEFAULT_Z_LOSS_WEIGHT = 1e-4


def _check_target(target_N: Tensor, vocab_size: int, rows: int) -> None:
    if not isinstance(target_N, Tensor) or target_N.dtype != torch.int64 or tuple(target_N.shape) != (rows,):
        raise ValueError(f"target_N must be an int64 tensor of shape ({rows},)")
    if bool((target_N.min() < 0) | (target_N.max() >= vocab_size)):
        raise ValueError(f"target_N must lie in [0, {vocab_size}), got range "
                         f"[{int(target_N.min())}, {int(target_N.max())}]")


class FullHead(nn.Module):
    """V-way softmax over all codewords; loss = fused CE + z_loss_weight · mean logsumexp²."""

    kind = "full"

    def __init__(self, width: int, vocab_size: int, *, z_loss_weight: float = DEFAULT_Z_LOSS_WEIGHT,
                 memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES, gradients_in_forward: bool = False) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.gradients_in_forward = bool(gradients_in_forward)
        self.z_loss_weight = float(z_loss_weight)
        self.memory_budget_bytes = memory_budget_bytes
        self.proj = nn.Linear(width, vocab_size)

    @property
    def chunk_rows(self) -> int:
        return chunk_rows(self.vocab_size, self.proj.weight.dtype, self.memory_budget_bytes)

    def loss(self, hidden_ND: Tensor, target_N: Tensor) -> Tensor:
        """Under autocast, hidden, weight and bias go to the autocast dtype (the custom function's
        matmuls run in one dtype; softmax and sums stay float32); else hidden goes to the weight's."""
        device_type = hidden_ND.device.type
        dtype = torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) \
            else self.proj.weight.dtype
        return fused_linear_cross_entropy(hidden_ND.to(dtype), self.proj.weight.to(dtype), target_N,
                                          bias_V=self.proj.bias.to(dtype),
                                          z_loss_weight=self.z_loss_weight,
                                          memory_budget_bytes=self.memory_budget_bytes,
                                          gradients_in_forward=self.gradients_in_forward)

    def logits(self, hidden_ND: Tensor) -> Tensor:
        return self.proj(hidden_ND)

    def predict(self, hidden_ND: Tensor) -> Tensor:
        return torch.cat([self.logits(chunk).argmax(dim=-1) for chunk in hidden_ND.split(self.chunk_rows)])

    def sample(self, logits_NV: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
        return sample_categorical(logits_NV, temperature=temperature, top_k=top_k, top_p=top_p,
                                  generator=generator)


class FactorizedLeechHead(nn.Module):
    """24 per-coordinate 9-way softmaxes over the Λ24 digits (coordinate + 4), trained on exact digits.

    Rule for predicting and sampling (always a minimal vector of the quantizer's code): a codeword
    c gets the score s(c) = Σᵢ ℓᵢ(cᵢ) of the 24 per-coordinate logits (after guidance, if any), for
    every one of the V codewords, row chunk by row chunk; `predict` returns argmax_c s(c) (with
    log-softmaxed ℓ, the codeword maximizing Σᵢ log pᵢ(cᵢ)) and `sample` draws from
    softmax(s / temperature) over codewords after top-k / top-p, i.e. the per-coordinate product
    distribution conditioned on being a codeword.
    """

    kind = "factorized"

    def __init__(self, width: int, quantizer: Leech24Quantizer, *,
                 memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES) -> None:
        super().__init__()
        if not isinstance(quantizer, Leech24Quantizer):
            raise TypeError(f"the factorized head needs a Leech24Quantizer, got {type(quantizer).__name__}")
        self.vocab_size = quantizer.codebook_size
        self.dim = quantizer.dim
        self.memory_budget_bytes = memory_budget_bytes
        self.proj = nn.Linear(width, self.dim * NUM_DIGIT_LABELS)
        digits_V24 = quantizer.indices_to_digits(torch.arange(self.vocab_size))
        self.register_buffer("digits_V24", digits_V24, persistent=False)
        # row 9·i + digit of the (24·9, N) table of logits, for every codeword and coordinate i
        self.register_buffer("table_rows_V24", digits_V24 + NUM_DIGIT_LABELS * torch.arange(self.dim),
                             persistent=False)

    @property
    def chunk_rows(self) -> int:
        return chunk_rows(self.vocab_size, self.proj.weight.dtype, self.memory_budget_bytes)

    def logits(self, hidden_ND: Tensor) -> Tensor:
        """Per-coordinate log-probabilities (N, 24, 9)."""
        return torch.log_softmax(self.proj(hidden_ND).unflatten(-1, (self.dim, NUM_DIGIT_LABELS)), dim=-1)

    def loss(self, hidden_ND: Tensor, target_N: Tensor) -> Tensor:
        _check_target(target_N, self.vocab_size, hidden_ND.shape[0])
        return F.nll_loss(self.logits(hidden_ND).flatten(0, 1), self.digits_V24[target_N].flatten())

    def codeword_scores(self, logits_N24x9: Tensor) -> Tensor:
        """s (N, V): Σᵢ logits[n, i, digit(c, i)] for every codeword c (one embedding-bag sum)."""
        table_216N = logits_N24x9.flatten(1).t().contiguous()
        return F.embedding_bag(self.table_rows_V24, table_216N, mode="sum").t()

    def predict(self, hidden_ND: Tensor) -> Tensor:
        return torch.cat([self.codeword_scores(self.logits(chunk)).argmax(dim=-1)
                          for chunk in hidden_ND.split(self.chunk_rows)])

    def sample(self, logits_N24x9: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
        return sample_categorical(self.codeword_scores(logits_N24x9), temperature=temperature, top_k=top_k,
                                  top_p=top_p, generator=generator)


class BitsHead(nn.Module):
    """One logit per bit of a sign-quantizer index (index = Σᵢ bitᵢ·2ⁱ); loss = mean binary CE."""

    kind = "bits"

    def __init__(self, width: int, bits: int) -> None:
        super().__init__()
        self.bits = bits
        self.vocab_size = 2**bits
        self.proj = nn.Linear(width, bits)
        self.register_buffer("place_b", torch.ones(bits, dtype=torch.int64) << torch.arange(bits), persistent=False)
        self.chunk_rows = 1 << 16  # rows per sampling call: a row holds only `bits` logits

    def logits(self, hidden_ND: Tensor) -> Tensor:
        """Log-odds (N, bits) of each bit being 1."""
        return self.proj(hidden_ND)

    def _bits(self, target_N: Tensor) -> Tensor:
        return (target_N[:, None] & self.place_b) != 0

    def loss(self, hidden_ND: Tensor, target_N: Tensor) -> Tensor:
        _check_target(target_N, self.vocab_size, hidden_ND.shape[0])
        logits_Nb = self.logits(hidden_ND)
        return F.binary_cross_entropy_with_logits(logits_Nb, self._bits(target_N).to(logits_Nb.dtype))

    def _index(self, bits_Nb: Tensor) -> Tensor:
        return (bits_Nb.long() * self.place_b).sum(dim=-1)

    def predict(self, hidden_ND: Tensor) -> Tensor:
        return self._index(self.logits(hidden_ND) > 0)

    def sample(self, logits_Nb: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
        """Each bit drawn from its 2-way softmax [0, logit] (top-k / top-p per bit, as Infinity)."""
        two_way_M2 = torch.stack([torch.zeros_like(logits_Nb), logits_Nb], dim=-1).flatten(0, 1)
        bits_M = sample_categorical(two_way_M2, temperature=temperature, top_k=top_k, top_p=top_p,
                                    generator=generator)
        return self._index(bits_M.view(logits_Nb.shape).bool())


Head = FullHead | FactorizedLeechHead | BitsHead


def build_head(kind: str, width: int, quantizer: Quantizer | MultiScaleResidualQuantizer, *,
               z_loss_weight: float = DEFAULT_Z_LOSS_WEIGHT,
               memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES, gradients_in_forward: bool = False) -> Head:
    """The head `kind` for `quantizer`'s vocabulary (a multi-scale quantizer stands for its inner one);
    z_loss_weight, memory_budget_bytes and gradients_in_forward concern the `full` head's fused loss."""
    inner = quantizer.quantizer if isinstance(quantizer, MultiScaleResidualQuantizer) else quantizer
    if not isinstance(inner, Quantizer):
        raise TypeError(f"quantizer must be a quantizers.Quantizer, got {type(inner).__name__}")
    if kind == "full":
        return FullHead(width, inner.codebook_size, z_loss_weight=z_loss_weight,
                        memory_budget_bytes=memory_budget_bytes, gradients_in_forward=gradients_in_forward)
    if kind == "factorized":
        return FactorizedLeechHead(width, inner, memory_budget_bytes=memory_budget_bytes)
    if kind == "bits":
        if not isinstance(inner, SignQuantizer):
            raise TypeError(f"the bits head needs a sign quantizer (BSQ/LFQ), got {type(inner).__name__}")
        return BitsHead(width, inner.dim)
    raise ValueError(f"head kind must be one of {HEAD_KINDS}, got {kind!r}")
