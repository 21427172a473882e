"""Exponential moving average of a model's weights: timm's `ModelEmaV3` with warm-up, counting its updates.

The decay at update n is min(decay, 1 − (1 + n)^(−2/3)) (timm's warm-up, after Polyak & Juditsky
1992 and the Adam-style bias correction); the first update copies the weights. Parameters and
floating buffers are averaged, other buffers copied. `updates` is what a checkpoint stores, so
a resumed run continues the same decay sequence.
"""
from __future__ import annotations

import torch
from timm.utils import ModelEmaV3
from torch import nn


class ModelEma:
    """`module` follows the model after each optimizer step; it has the model's state-dict keys."""

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must lie in [0, 1), got {decay}")
        self.average = ModelEmaV3(model, decay=decay, use_warmup=True)
        self.average.module.requires_grad_(False)
        self.updates = 0

    @property
    def module(self) -> nn.Module:
        return self.average.module

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        self.average.update(model, step=self.updates)
