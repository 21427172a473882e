"""Strict state-dict loading that reports a mismatch as a ValueError."""
from __future__ import annotations

import torch


def load_into(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """`module.load_state_dict(state, strict=True)`, raising a ValueError that says what did not fit."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ValueError(f"{what} does not fit the network: {error}") from error
