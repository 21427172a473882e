"""Tokenizer checkpoints: a directory of safetensors weights, trainer state and the resolved config, written atomically.

Layout: RUN/checkpoints/step_00001000/{model,ema,discriminator,vf_projection}.safetensors (those that
exist), trainer_state.pt (optimizer/scheduler state and counters: tensors and plain containers,
read back with `torch.load(weights_only=True)`) and config.yaml; RUN/checkpoints/latest names the
newest complete one. A checkpoint is assembled in a `.tmp` directory and moved into place with
os.replace, and `latest` is rewritten the same way, so a crash never leaves a half-written checkpoint
behind a valid name.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.safetensors_io import save_safetensors_atomic

CHECKPOINTS_DIR = "checkpoints"
LATEST_FILE = "latest"
STATE_FILE = "trainer_state.pt"
CONFIG_FILE = "config.yaml"
STEP_PREFIX = "step_"


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and os.replace."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def checkpoint_name(step: int) -> str:
    return f"{STEP_PREFIX}{step:08d}"


def save_checkpoint(run_dir: Path, step: int, modules: dict[str, nn.Module], state: dict[str, Any],
                    config_yaml: str, keep: int) -> Path:
    """Write checkpoint `step` under run_dir, point `latest` at it, keep only the newest `keep`; returns its path."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    final = root / checkpoint_name(step)
    temporary = root / (final.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    for name, module in modules.items():
        save_safetensors_atomic(module, temporary / f"{name}.safetensors")
    torch.save(state, temporary / STATE_FILE)
    (temporary / CONFIG_FILE).write_text(config_yaml)
    if final.exists():
        shutil.rmtree(final)
    os.replace(temporary, final)
    write_text_atomic(root / LATEST_FILE, final.name + "\n")
    for old in sorted(root.glob(f"{STEP_PREFIX}*[0-9]"))[:-keep]:
        shutil.rmtree(old)
    return final


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory from itself, a run directory or a run's checkpoints/ directory (newest one)."""
    path = Path(path)
    if (path / STATE_FILE).is_file():
        return path
    for root in (path / CHECKPOINTS_DIR, path):
        latest = root / LATEST_FILE
        if latest.is_file():
            candidate = root / latest.read_text().strip()
            if not (candidate / STATE_FILE).is_file():
                raise FileNotFoundError(f"{latest} names {candidate}, which is not a complete checkpoint")
            return candidate
    raise FileNotFoundError(f"{path} is neither a tokenizer checkpoint directory (with {STATE_FILE}) nor a run "
                            f"directory with {CHECKPOINTS_DIR}/{LATEST_FILE}")


def find_latest(run_dir: Path) -> Path | None:
    """The newest checkpoint of a run, or None when the run has none yet."""
    try:
        return resolve_checkpoint(Path(run_dir) / CHECKPOINTS_DIR)
    except FileNotFoundError:
        return None


def load_trainer_state(checkpoint: Path) -> dict[str, Any]:
    """The trainer state of a checkpoint directory (tensors and plain containers only)."""
    path = Path(checkpoint) / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} has no {STATE_FILE}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or non-weights files
        raise ValueError(f"{path} is not a readable trainer state: {error}") from error
    if not isinstance(state, dict) or "step" not in state:
        raise ValueError(f"{path} is not a tokenizer trainer state (no 'step' entry)")
    return state


def load_checkpoint_config(checkpoint: Path) -> dict[str, Any]:
    """The resolved config mapping stored with a checkpoint."""
    from experiments.dataclass_config import load_yaml_mapping

    return load_yaml_mapping(Path(checkpoint) / CONFIG_FILE)
