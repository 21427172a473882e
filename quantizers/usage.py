"""`CodebookUsage`: per-code hit counts (bincount, no one-hot) and usage statistics, all-reduced under DDP."""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch import distributed as dist

from quantizers.base import require_integer


class CodebookUsage:
    """Accumulate hit counts of `codebook_size` codes; read perplexity and coverage at eval time.

    `update(indices)` adds a bincount of the step's indices to a local int64 count vector (no
    communication). `compute()` sums the counts over ranks (one all_reduce when torch.distributed
    is initialized; every rank must call it) and returns:
      hits            total number of indices counted
      perplexity      exp(entropy of the empirical code distribution), in [1, codebook_size]
      used_fraction   fraction of codes hit at least once
      max_min_ratio   largest count / smallest count over all codes (inf when a code is unused)
    `reset()` zeroes the counts. It is a plain class, not an nn.Module, so DDP never broadcasts
    rank 0's counts over the others and checkpoints do not carry them.
    """

    def __init__(self, codebook_size: int, device: torch.device | str = "cpu") -> None:
        if isinstance(codebook_size, bool) or not isinstance(codebook_size, int) or codebook_size < 1:
            raise ValueError(f"codebook_size must be a positive integer, got {codebook_size!r}")
        self.codebook_size = codebook_size
        self.counts = torch.zeros(codebook_size, dtype=torch.int64, device=device)

    def to(self, device: torch.device | str) -> CodebookUsage:
        """Move the counts to `device`; returns self."""
        self.counts = self.counts.to(device)
        return self

    def reset(self) -> None:
        """Forget all counts."""
        self.counts.zero_()

    @torch.no_grad()
    def update(self, indices: Tensor, *, check_range: bool = True) -> None:
        """Count the given code indices (any shape, integer dtype, values in [0, codebook_size)).

        check_range=True checks the range first (ValueError; one device sync). False adds the
        counts with `index_add_`, which needs no sync, for use inside a GPU training step: an
        out-of-range index then fails there (IndexError on CPU, a device-side assert on CUDA).
        """
        flat = require_integer(indices, "indices").reshape(-1).to(self.counts.device)
        if flat.numel() == 0:
            return
        if not check_range:
            self.counts.index_add_(0, flat, torch.ones_like(flat))
            return
        low, high = torch.stack(torch.aminmax(flat)).tolist()  # one device sync
        if low < 0 or high >= self.codebook_size:
            raise ValueError(f"indices must lie in [0, {self.codebook_size}), got range [{low}, {high}]")
        self.counts += torch.bincount(flat, minlength=self.codebook_size)

    @torch.no_grad()
    def global_counts(self) -> Tensor:
        """Counts summed over all ranks (a copy; collective under torch.distributed)."""
        counts = self.counts.clone()
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(counts)
        return counts

    @torch.no_grad()
    def compute(self) -> dict[str, float]:
        """Usage statistics over everything counted since the last reset, on all ranks together."""
        counts = self.global_counts()
        hits = int(counts.sum())
        if hits == 0:
            raise ValueError("no indices have been counted since the last reset")
        probabilities = counts.double() / hits
        entropy = float(-torch.special.xlogy(probabilities, probabilities).sum())
        smallest = int(counts.min())
        return {
            "hits": float(hits),
            "perplexity": math.exp(entropy),
            "used_fraction": float((counts > 0).double().mean()),
            "max_min_ratio": float(counts.max()) / smallest if smallest else math.inf,
        }
