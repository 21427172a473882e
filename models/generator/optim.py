"""Optimizers of the generator: Muon (Jordan et al. 2024; Liu et al. 2025, arXiv 2502.16982) for the blocks' matrices, AdamW for the rest.

Muon orthogonalizes the momentum of 2-D weights by Newton–Schulz iterations (torch.optim.Muon);
it suits hidden-layer matrices only, so embeddings, the head, biases, positional parameters
and norms take AdamW (Loshchilov & Hutter, arXiv 1711.05101). Muon's learning rate is adjusted
to AdamW's update RMS ("match_rms_adamw", as Moonlight), so one learning rate serves both.
"""
from __future__ import annotations

import torch
from torch import nn

OPTIMIZER_KINDS = ("muon", "adamw")
BLOCKS_PREFIX = "blocks."


def parameter_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter], list[nn.Parameter]]:
    """(Muon matrices: 2-D weights under `blocks.`; AdamW with decay: other ≥2-D weights except
    embeddings; AdamW without decay: embeddings, biases, norms and positional parameters)."""
    muon, decay, no_decay = [], [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if name.startswith(BLOCKS_PREFIX) and parameter.ndim == 2:
            muon.append(parameter)
        elif parameter.ndim == 2 and "embedding" not in name:
            decay.append(parameter)
        else:
            no_decay.append(parameter)
    return muon, decay, no_decay


def build_optimizers(model: nn.Module, *, kind: str = "muon", lr: float = 1e-3, weight_decay: float = 0.05,
                     betas: tuple[float, float] = (0.9, 0.95), momentum: float = 0.95) -> list[torch.optim.Optimizer]:
    """[Muon, AdamW] ("muon") or [AdamW] ("adamw", every parameter); step each after backward."""
    if kind not in OPTIMIZER_KINDS:
        raise ValueError(f"optimizer kind must be one of {OPTIMIZER_KINDS}, got {kind!r}")
    if not lr > 0 or not weight_decay >= 0:
        raise ValueError(f"lr must be > 0 and weight_decay ≥ 0, got lr={lr!r}, weight_decay={weight_decay!r}")
    muon, decay, no_decay = parameter_groups(model)
    if kind == "adamw":
        decay, muon = decay + muon, []
    adamw = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                               {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)
    if not muon:
        return [adamw]
    return [torch.optim.Muon(muon, lr=lr, weight_decay=weight_decay, momentum=momentum,
                             adjust_lr_fn="match_rms_adamw"), adamw]
