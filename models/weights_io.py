"""Strict safetensors loading into modules and atomic saving of their state dicts."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "") if names else "none"


def read_safetensors(path: str | Path, what: str) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; FileNotFoundError if absent, ValueError if unreadable."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} weights file {path} does not exist")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise ValueError(f"{what} weights file {path} is not a readable safetensors file: {error}") from error


def load_state_strict(module: nn.Module, state: dict[str, torch.Tensor], what: str, assign: bool = False) -> None:
    """`module.load_state_dict(state)`, with a ValueError listing missing/unexpected keys and shape mismatches.

    assign=True replaces the module's tensors by those of `state` (for a module built on the meta device).
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = [f"{name} {tuple(state[name].shape)} vs {tuple(tensor.shape)}"
                   for name, tensor in expected.items() if name in state and state[name].shape != tensor.shape]
    if missing or unexpected or wrong_shape:
        raise ValueError(
            f"{what} does not fit the model: missing keys {_listed(missing)}; unexpected keys "
            f"{_listed(unexpected)}; wrong shapes (file vs model) {_listed(wrong_shape)}"
        )
    module.load_state_dict(state, strict=True, assign=assign)


def load_safetensors_strict(module: nn.Module, path: str | Path, what: str) -> None:
    """Load a safetensors file into `module` with `load_state_strict`'s checks."""
    load_state_strict(module, read_safetensors(path, what), f"{what} weights file {path}")


def save_safetensors_atomic(module: nn.Module, path: str | Path) -> None:
    """Write `module.state_dict()` (contiguous CPU copies) to `path` through a temporary file and os.replace."""
    from safetensors.torch import save_file

    path = Path(path)
    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in module.state_dict().items()}
    temporary = path.with_name(path.name + ".tmp")
    save_file(state, str(temporary))
    os.replace(temporary, path)
