"""`NextScaleTransformer`: class-conditional next-scale prediction (VAR, Tian et al. 2024, arXiv 2404.02905).

Token layout: the scales of `GeneratorConfig.scales`, each row-major, scale after scale (L tokens).
Scale 0's tokens are the start token: the class embedding plus learned start positions; scale
k ≥ 1 reads the teacher-forcing input of `models.generator.scales` through a linear projection.
Every token adds a learned position embedding and its scale's (level) embedding. Attention is
block-causal (a token of scale k sees the tokens of scales ≤ k); the class embedding conditions
every block through adaLN-Zero. In training, classes are replaced by the null class (index
num_classes) with probability `class_dropout`, for classifier-free guidance.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from models.generator.blocks import AdaLNBeforeHead, AdaLNSelfAttentionBlock, KVCache
from models.generator.heads import Head

INIT_STD = 0.02
# name: (width, depth, heads); VAR's dN models have width 64·N and N heads.
PRESETS = {"tiny": (64, 2, 2), "small": (256, 6, 4), "d12": (768, 12, 12), "d16": (1024, 16, 16)}


@dataclass(frozen=True)
class GeneratorConfig:
    """Shape of a next-scale transformer. scales: side lengths (or (h, w) pairs) of the token maps,
    the tokenizer's schedule; code_dim: the quantizer's code dimension d."""

    num_classes: int
    scales: tuple[int | tuple[int, int], ...]
    code_dim: int
    width: int = 256
    depth: int = 6
    heads: int = 4
    mlp_ratio: float = 4.0
    class_dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("num_classes", "code_dim", "width", "depth", "heads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} must be divisible by heads {self.heads}")
        if not 0 <= self.class_dropout < 1:
            raise ValueError(f"class_dropout must lie in [0, 1), got {self.class_dropout!r}")
        if not self.mlp_ratio > 0:
            raise ValueError(f"mlp_ratio must be > 0, got {self.mlp_ratio!r}")
        object.__setattr__(self, "scales", self.sizes)

    @property
    def sizes(self) -> tuple[tuple[int, int], ...]:
        """(h_k, w_k) of every scale."""
        sizes = tuple((s, s) if isinstance(s, int) else tuple(s) for s in self.scales)
        if not sizes or not all(len(size) == 2 and all(isinstance(side, int) and side >= 1 for side in size)
                                for size in sizes):
            raise ValueError(f"scales must be positive ints or (h, w) pairs, got {self.scales!r}")
        return sizes

    @classmethod
    def preset(cls, name: str, **fields) -> GeneratorConfig:
        """A config with PRESETS[name]'s width, depth and heads; `fields` gives the rest."""
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
        width, depth, heads = PRESETS[name]
        return cls(**{"width": width, "depth": depth, "heads": heads, **fields})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class GeneratorLoss(NamedTuple):
    """loss: the head's scalar loss over all tokens; accuracy_K: greedy-prediction accuracy per scale
    (detached), None when not asked for."""

    loss: Tensor
    accuracy_K: Tensor | None


class NextScaleTransformer(nn.Module):
    """The next-scale transformer over a head of `models.generator.heads` (see the module docstring)."""

    def __init__(self, config: GeneratorConfig, head: Head) -> None:
        super().__init__()
        if not isinstance(config, GeneratorConfig):
            raise TypeError(f"config must be a GeneratorConfig, got {type(config).__name__}")
        self.config = config
        width = config.width
        lengths = [h * w for h, w in config.sizes]
        self.ends = tuple(itertools.accumulate(lengths))
        self.begins = (0,) + self.ends[:-1]
        self.num_tokens = self.ends[-1]
        self.null_class = config.num_classes
        self.class_embedding = nn.Embedding(config.num_classes + 1, width)
        self.start_position = nn.Parameter(torch.empty(1, lengths[0], width))
        self.input_projection = nn.Linear(config.code_dim, width)
        self.position_embedding = nn.Parameter(torch.empty(1, self.num_tokens, width))
        self.level_embedding = nn.Embedding(len(lengths), width)
        self.blocks = nn.ModuleList(AdaLNSelfAttentionBlock(width, config.heads, config.mlp_ratio)
                                    for _ in range(config.depth))
        self.final_norm = AdaLNBeforeHead(width)
        self.head = head
        level_L = torch.tensor([level for level, length in enumerate(lengths) for _ in range(length)])
        self.register_buffer("level_L", level_L, persistent=False)
        self.register_buffer("attn_mask_LL", level_L[:, None] >= level_L[None, :], persistent=False)
        for parameter in (self.class_embedding.weight, self.start_position, self.position_embedding,
                          self.level_embedding.weight):
            nn.init.trunc_normal_(parameter, std=INIT_STD)

    @property
    def num_scales(self) -> int:
        return len(self.ends)

    # inputs -------------------------------------------------------------------------------------
    def check_classes(self, class_B: Tensor, *, allow_null: bool) -> Tensor:
        """class_B as given if it is a non-empty 1-D int64 tensor of classes in range, else ValueError."""
        top = self.null_class if allow_null else self.null_class - 1
        if not isinstance(class_B, Tensor) or class_B.dtype != torch.int64 or class_B.ndim != 1:
            raise ValueError("class_B must be a 1-D int64 tensor of class indices")
        if class_B.numel() == 0:
            raise ValueError("class_B is empty")
        if bool((class_B.min() < 0) | (class_B.max() > top)):
            raise ValueError(f"class indices must lie in [0, {top}], got range "
                             f"[{int(class_B.min())}, {int(class_B.max())}]")
        return class_B

    def condition(self, class_B: Tensor) -> Tensor:
        """The class condition (B, C); in training, classes drop to the null class with prob. class_dropout."""
        self.check_classes(class_B, allow_null=True)
        if self.training and self.config.class_dropout > 0:
            dropped_B = torch.rand(class_B.shape, device=class_B.device) < self.config.class_dropout
            class_B = torch.where(dropped_B, self.null_class, class_B)
        return self.class_embedding(class_B)

    def embed(self, cond_BC: Tensor, inputs_BmD: Tensor | None, first_scale: int, stop_scale: int) -> Tensor:
        """Token embeddings (B, l, C) of scales first_scale..stop_scale−1: the start token for scale 0,
        projected inputs (B, m, d) for the others, plus position and level embeddings."""
        parts = []
        if first_scale == 0:
            parts.append(cond_BC[:, None] + self.start_position)
        expected = self.ends[stop_scale - 1] - self.ends[max(first_scale, 1) - 1]
        if expected:
            if (inputs_BmD is None or inputs_BmD.ndim != 3
                    or tuple(inputs_BmD.shape) != (cond_BC.shape[0], expected, self.config.code_dim)):
                got = None if inputs_BmD is None else tuple(inputs_BmD.shape)
                raise ValueError(f"inputs must have shape ({cond_BC.shape[0]}, {expected}, "
                                 f"{self.config.code_dim}), got {got}")
            parts.append(self.input_projection(inputs_BmD.to(self.input_projection.weight.dtype)))
        begin, end = self.begins[first_scale], self.ends[stop_scale - 1]
        x_BlC = torch.cat(parts, dim=1)
        return x_BlC + self.position_embedding[:, begin:end] + self.level_embedding(self.level_L[begin:end])

    def transform(self, x_BlC: Tensor, cond_BC: Tensor, attn_mask_lm: Tensor | None = None,
                  caches: Sequence[KVCache] | None = None) -> Tensor:
        """Hidden states (B, l, C) of the blocks and the final adaLN, ready for the head."""
        for index, block in enumerate(self.blocks):
            x_BlC = block(x_BlC, cond_BC, attn_mask_lm, None if caches is None else caches[index])
        return self.final_norm(x_BlC, cond_BC)

    def new_caches(self) -> list[KVCache]:
        """One empty KV cache per block, for sampling scale by scale."""
        return [KVCache() for _ in self.blocks]

    # training -----------------------------------------------------------------------------------
    def forward(self, class_B: Tensor, inputs_BLd: Tensor) -> Tensor:
        """Per-token hidden states (B, L, C) from classes (B,) and teacher-forcing inputs (B, L − l₀, d)."""
        cond_BC = self.condition(class_B)
        x_BLC = self.embed(cond_BC, inputs_BLd, 0, self.num_scales)
        return self.transform(x_BLC, cond_BC, self.attn_mask_LL)

    def loss(self, class_B: Tensor, inputs_BLd: Tensor, targets_BL: Tensor, *,
             with_accuracy: bool = True) -> GeneratorLoss:
        """The head's loss on all tokens and (with_accuracy) the per-scale accuracy of its greedy
        prediction, which costs one more V-way pass of the head (skip it between log steps)."""
        if not isinstance(targets_BL, Tensor) or tuple(targets_BL.shape) != (class_B.shape[0], self.num_tokens):
            raise ValueError(f"targets_BL must have shape ({class_B.shape[0]}, {self.num_tokens})")
        hidden_BLC = self(class_B, inputs_BLd)
        hidden_NC, target_N = hidden_BLC.flatten(0, 1), targets_BL.flatten()
        loss = self.head.loss(hidden_NC, target_N)
        if not with_accuracy:
            return GeneratorLoss(loss, None)
        with torch.no_grad():
            correct_BL = (self.head.predict(hidden_NC) == target_N).view_as(targets_BL).float()
            accuracy_K = torch.stack([correct_BL[:, begin:end].mean() for begin, end in zip(self.begins, self.ends)])
        return GeneratorLoss(loss, accuracy_K)
