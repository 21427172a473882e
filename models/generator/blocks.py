"""AdaLN-Zero transformer blocks (DiT, Peebles & Xie 2023, arXiv 2212.09748) with an optional KV cache, as in VAR.

Attention is `F.scaled_dot_product_attention`; the block-causal mask of next-scale prediction
(VAR, arXiv 2404.02905) is passed in, and a `KVCache` holds the keys and values of earlier
scales so that sampling feeds one scale at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

NORM_EPS = 1e-6


@dataclass
class KVCache:
    """Keys and values (B, heads, L, head_dim) of the tokens fed so far to one attention layer."""

    key_BHLd: Tensor | None = None
    value_BHLd: Tensor | None = None

    def extend(self, key_BHld: Tensor, value_BHld: Tensor) -> tuple[Tensor, Tensor]:
        """Append this step's keys and values; return all of them."""
        if self.key_BHLd is not None:
            key_BHld = torch.cat([self.key_BHLd, key_BHld], dim=2)
            value_BHld = torch.cat([self.value_BHLd, value_BHld], dim=2)
        self.key_BHLd, self.value_BHLd = key_BHld, value_BHld
        return key_BHld, value_BHld


def _modulation(width: int, chunks: int) -> nn.Sequential:
    """SiLU → Linear(width, chunks·width), zero-initialised (adaLN-Zero: blocks start as identities)."""
    linear = nn.Linear(width, chunks * width)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    return nn.Sequential(nn.SiLU(), linear)


def _modulate(x_BLC: Tensor, shift_B1C: Tensor, scale_B1C: Tensor) -> Tensor:
    return x_BLC * (1 + scale_B1C) + shift_B1C


class AdaLNSelfAttentionBlock(nn.Module):
    """x + gate₁·Attn(mod₁(LN x)), then + gate₂·MLP(mod₂(LN x)); shift/scale/gate from the class condition."""

    def __init__(self, width: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} must be divisible by heads {heads}")
        self.heads = heads
        self.norm_attention = nn.LayerNorm(width, elementwise_affine=False, eps=NORM_EPS)
        self.qkv = nn.Linear(width, 3 * width)
        self.attention_out = nn.Linear(width, width)
        self.norm_mlp = nn.LayerNorm(width, elementwise_affine=False, eps=NORM_EPS)
        hidden = round(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, width))
        self.modulation = _modulation(width, 6)

    def forward(self, x_BLC: Tensor, cond_BC: Tensor, attn_mask_LM: Tensor | None = None,
                cache: KVCache | None = None) -> Tensor:
        """x (B, L, C) → (B, L, C). attn_mask (L, M) bool (True = may attend) over the L queries and
        the M = cached + L keys; None lets every query see every key."""
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(cond_BC)[:, None].chunk(6, dim=-1)
        batch, length, width = x_BLC.shape
        qkv_3BHLd = self.qkv(_modulate(self.norm_attention(x_BLC), shift1, scale1)).view(
            batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        query_BHLd, key_BHLd, value_BHLd = qkv_3BHLd.unbind(0)
        if cache is not None:
            key_BHLd, value_BHLd = cache.extend(key_BHLd, value_BHLd)
        attended_BHLd = F.scaled_dot_product_attention(query_BHLd, key_BHLd, value_BHLd, attn_mask=attn_mask_LM)
        x_BLC = x_BLC + gate1 * self.attention_out(attended_BHLd.transpose(1, 2).reshape(batch, length, width))
        return x_BLC + gate2 * self.mlp(_modulate(self.norm_mlp(x_BLC), shift2, scale2))


class AdaLNBeforeHead(nn.Module):
    """The last normalisation: mod(LN x) with shift and scale from the class condition."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False, eps=NORM_EPS)
        self.modulation = _modulation(width, 2)

    def forward(self, x_BLC: Tensor, cond_BC: Tensor) -> Tensor:
        shift_B1C, scale_B1C = self.modulation(cond_BC)[:, None].chunk(2, dim=-1)
        return _modulate(self.norm(x_BLC), shift_B1C, scale_B1C)
