"""Exponential moving average of a model's weights, kept in a frozen copy of the model."""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """`shadow` follows the model: p_ema ← d·p_ema + (1 − d)·p after each optimizer step; buffers are copied.

    d = min(decay, (1 + updates) / (10 + updates)), so that the first steps are not dominated by the
    random initialization. `shadow` has the model's state-dict keys; `updates` goes into the trainer state.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must lie in [0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        decay = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        shadow_params = list(self.shadow.parameters())
        params = [parameter.detach() for parameter in model.parameters()]
        if len(shadow_params) != len(params):
            raise ValueError(f"EMA holds {len(shadow_params)} parameters but the model has {len(params)}")
        torch._foreach_lerp_(shadow_params, params, 1.0 - decay)
        for shadow_buffer, buffer in zip(self.shadow.buffers(), model.buffers(), strict=True):
            shadow_buffer.copy_(buffer)
        self.updates += 1
