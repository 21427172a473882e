"""The `train:` section shared by every trainer: run length, seed, device, precision, EMA, logging and checkpoints."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class TrainConfig:
    """Run length, precision, logging and checkpoint cadence; every count is in optimizer steps."""

    steps: int = 100_000
    seed: int = 0
    device: str = "auto"
    precision: Literal["bf16", "fp32"] = "bf16"
    compile: bool = False
    grad_checkpointing: bool = False
    ema_decay: float = 0.999
    log_every: int = 50
    checkpoint_every: int = 5000
    keep_checkpoints: int = 2
    run_dir: str = "runs/tokenizer"
    progress_bar: bool = True


# Keys of the train section that may change when a run is resumed: they do not alter the optimization.
RESUMABLE_TRAIN_KEYS = ("train.steps", "train.log_every", "train.checkpoint_every", "train.keep_checkpoints",
                        "train.progress_bar", "train.compile", "train.device", "train.run_dir")


def validate_train(train: TrainConfig) -> None:
    """ValueError naming the first train.* value that cannot work."""
    for key in ("steps", "log_every", "checkpoint_every", "keep_checkpoints"):
        if getattr(train, key) <= 0:
            raise ValueError(f"train.{key} must be positive, got {getattr(train, key)}")
    if not 0 <= train.seed < 2**63:
        raise ValueError(f"train.seed must lie in [0, 2^63), got {train.seed}")
    if not 0.0 <= train.ema_decay < 1.0:
        raise ValueError(f"train.ema_decay must lie in [0, 1), got {train.ema_decay}")
    if not train.run_dir:
        raise ValueError("train.run_dir must not be empty")
