"""Temperature / top-k / top-p (nucleus, Holtzman et al. 2019, arXiv 1904.09751) sampling of categorical logits."""
from __future__ import annotations

import math

import torch
from torch import Tensor


def check_sampling_options(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """ValueError unless temperature > 0, top_k is None or an int ≥ 1, top_p is None or in (0, 1]."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be None or an integer ≥ 1, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float))
                              or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be None or a number in (0, 1], got {top_p!r}")


def filter_logits(logits_NV: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> Tensor:
    """logits / temperature in float32 (float64 stays), −inf outside the top_k largest (ties broken
    by torch.topk) and outside the nucleus: the smallest set of largest-probability entries (among
    the top k) whose mass is ≥ top_p (an entry is dropped when the mass before it in descending
    order is ≥ top_p). Only the top k entries are sorted when top_k is given."""
    check_sampling_options(temperature, top_k, top_p)
    logits_NV = logits_NV.to(torch.promote_types(logits_NV.dtype, torch.float32)) / temperature
    keep_k = top_k is not None and top_k < logits_NV.shape[-1]
    keep_p = top_p is not None and top_p < 1
    if not (keep_k or keep_p):
        return logits_NV
    if keep_k:
        sorted_NK, order_NK = torch.topk(logits_NV, top_k, dim=-1)
    else:
        sorted_NK, order_NK = torch.sort(logits_NV, dim=-1, descending=True)
    if keep_p:
        probs_NK = torch.softmax(sorted_NK, dim=-1)
        mass_before_NK = torch.cumsum(probs_NK, dim=-1) - probs_NK
        drop_NK = mass_before_NK >= top_p
        drop_NK[..., 0] = False
        sorted_NK = sorted_NK.masked_fill(drop_NK, -math.inf)
    return torch.full_like(logits_NV, -math.inf).scatter(-1, order_NK, sorted_NK)


def sample_categorical(logits_NV: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                       top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
    """Indices (N,) int64 drawn from softmax(filter_logits(logits_NV)) row by row with `generator`."""
    probs_NV = torch.softmax(filter_logits(logits_NV, temperature=temperature, top_k=top_k, top_p=top_p), dim=-1)
    return torch.multinomial(probs_NV, 1, generator=generator)[:, 0]
