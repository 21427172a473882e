"""Scale-by-scale sampling of a `NextScaleTransformer` (VAR, Tian et al. 2024, arXiv 2404.02905, §3.2, Alg. 2).

Each scale's tokens are drawn at once from the head's (guided) logits; the sampled codes are
added to f̂ through the tokenizer's quantizer and f̂'s area-downsample feeds the next scale.
With `use_kv_cache` each scale runs only its own tokens against the cached keys and values of
earlier scales; without it the whole prefix is recomputed under the block-causal mask (the
reference the cache must match). Classifier-free guidance (Ho & Salimans 2022, arXiv
2207.12598) as in VAR: logits = (1 + t)·cond − t·uncond, t = cfg·k/(K − 1) on scale k
("linear") or t = cfg ("constant").
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from models.generator.categorical import check_sampling_options
from models.generator.heads import Head
from models.generator.scales import next_scale_input
from models.generator.var import NextScaleTransformer
from quantizers.multiscale import MultiScaleResidualQuantizer

CFG_SCHEDULES = ("linear", "constant")


def guidance_weight(cfg: float, scale: int, num_scales: int, schedule: str = "linear") -> float:
    """t of scale `scale` (0-based) of `num_scales`: cfg·scale/(num_scales − 1) ("linear") or cfg."""
    if schedule not in CFG_SCHEDULES:
        raise ValueError(f"cfg schedule must be one of {CFG_SCHEDULES}, got {schedule!r}")
    if schedule == "constant" or num_scales == 1:
        return float(cfg)
    return float(cfg) * scale / (num_scales - 1)


def guided_logits(cond_logits: Tensor, uncond_logits: Tensor, weight: float) -> Tensor:
    """(1 + t)·cond − t·uncond for t = weight."""
    return (1 + weight) * cond_logits - weight * uncond_logits


def sample_rows(head: Head, hidden_cond_NC: Tensor, hidden_uncond_NC: Tensor | None, weight: float, *,
                temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                generator: torch.Generator | None = None) -> Tensor:
    """Indices (N,) sampled row chunk by row chunk (head.chunk_rows) from the head's guided logits."""
    indices = []
    for start in range(0, hidden_cond_NC.shape[0], head.chunk_rows):
        logits = head.logits(hidden_cond_NC[start:start + head.chunk_rows])
        if hidden_uncond_NC is not None:
            logits = guided_logits(logits, head.logits(hidden_uncond_NC[start:start + head.chunk_rows]), weight)
        indices.append(head.sample(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator))
    return torch.cat(indices)


def _check_pair(model: NextScaleTransformer, quantizer: MultiScaleResidualQuantizer) -> None:
    if not isinstance(model, NextScaleTransformer):
        raise TypeError(f"model must be a NextScaleTransformer, got {type(model).__name__}")
    if not isinstance(quantizer, MultiScaleResidualQuantizer):
        raise TypeError(f"quantizer must be a MultiScaleResidualQuantizer, got {type(quantizer).__name__}")
    if tuple(quantizer.sizes) != model.config.sizes or quantizer.dim != model.config.code_dim:
        raise ValueError(f"the quantizer (scales {quantizer.sizes}, d={quantizer.dim}) does not match the "
                         f"generator (scales {model.config.sizes}, d={model.config.code_dim})")
    if quantizer.codebook_size != model.head.vocab_size:
        raise ValueError(f"the quantizer has {quantizer.codebook_size} codes, the generator's head "
                         f"{model.head.vocab_size}")


@torch.no_grad()
def sample_scales(model: NextScaleTransformer, quantizer: MultiScaleResidualQuantizer, class_B: Tensor, *,
                  cfg: float = 0.0, cfg_schedule: str = "linear", temperature: float = 1.0,
                  top_k: int | None = None, top_p: float | None = None,
                  generator: torch.Generator | None = None, use_kv_cache: bool = True) -> list[Tensor]:
    """Per-scale index maps (B, h_k, w_k) int64 for classes class_B (B,), decodable by the quantizer.

    cfg ≥ 0 (0: no unconditional pass); the random draws come from `generator` in a fixed order
    (scale by scale, row chunk by row chunk), so a seed fixes the result on one device.
    ValueError on a mismatched quantizer, classes out of range, cfg < 0, temperature ≤ 0,
    top_k ≤ 0 or top_p outside (0, 1], before any model work.
    """
    _check_pair(model, quantizer)
    model.check_classes(class_B, allow_null=False)
    if isinstance(cfg, bool) or not isinstance(cfg, (int, float)) or not math.isfinite(cfg) or cfg < 0:
        raise ValueError(f"cfg must be a finite number ≥ 0, got {cfg!r}")
    guidance_weight(cfg, 0, model.num_scales, cfg_schedule)
    check_sampling_options(temperature, top_k, top_p)
    was_training = model.training
    model.eval()
    try:
        return _sample(model, quantizer, class_B, cfg=cfg, cfg_schedule=cfg_schedule,
                       options={"temperature": temperature, "top_k": top_k, "top_p": top_p, "generator": generator},
                       use_kv_cache=use_kv_cache)
    finally:
        model.train(was_training)


def _sample(model: NextScaleTransformer, quantizer: MultiScaleResidualQuantizer, class_B: Tensor, *,
            cfg: float, cfg_schedule: str, options: dict, use_kv_cache: bool) -> list[Tensor]:
    batch, sizes = class_B.shape[0], model.config.sizes
    guided = cfg > 0
    classes = torch.cat([class_B, torch.full_like(class_B, model.null_class)]) if guided else class_B
    cond_GC = model.condition(classes)
    caches = model.new_caches() if use_kv_cache else None
    f_hat_BdHW, inputs, indices = None, [], []
    for scale, (height, width) in enumerate(sizes):
        if use_kv_cache:
            x_GlC = model.embed(cond_GC, inputs[-1] if scale else None, scale, scale + 1)
            hidden_GlC = model.transform(x_GlC, cond_GC, None, caches)
        else:
            end = model.ends[scale]
            prefix = torch.cat(inputs, dim=1) if inputs else None
            x_GlC = model.embed(cond_GC, prefix, 0, scale + 1)
            hidden_GlC = model.transform(x_GlC, cond_GC, model.attn_mask_LL[:end, :end])[:, model.begins[scale]:]
        hidden_NC = hidden_GlC[:batch].flatten(0, 1)
        hidden_uncond_NC = hidden_GlC[batch:].flatten(0, 1) if guided else None
        weight = guidance_weight(cfg, scale, len(sizes), cfg_schedule)
        index_map = sample_rows(model.head, hidden_NC, hidden_uncond_NC, weight, **options).view(batch, height, width)
        indices.append(index_map)
        if scale + 1 < len(sizes):
            term_BdHW = quantizer.scale_contribution(index_map, scale)
            f_hat_BdHW = term_BdHW if f_hat_BdHW is None else f_hat_BdHW + term_BdHW
            next_BlD = next_scale_input(f_hat_BdHW, sizes[scale + 1])
            inputs.append(torch.cat([next_BlD, next_BlD]) if guided else next_BlD)
    return indices
