"""Learning-rate schedule: linear warm-up followed by cosine decay, as a picklable LambdaLR multiplier."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class WarmupCosine:
    """Multiplier of the base learning rate at step s (0-based).

    s < warmup: (s + 1) / warmup;  afterwards min_ratio + (1 − min_ratio)·½(1 + cos(π·t)), with
    t = (s − warmup) / (total − warmup) clipped to [0, 1]. A plain dataclass, so that
    `LambdaLR.state_dict()` stores its fields and a checkpoint holds only numbers.
    """

    warmup_steps: int
    total_steps: int
    min_ratio: float = 0.0

    def __post_init__(self) -> None:
        if self.warmup_steps < 0 or self.total_steps < 1:
            raise ValueError(f"need warmup_steps >= 0 and total_steps >= 1, got {self.warmup_steps}, "
                             f"{self.total_steps}")
        if not 0.0 <= self.min_ratio <= 1.0:
            raise ValueError(f"min_ratio must lie in [0, 1], got {self.min_ratio}")

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        decay_steps = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / decay_steps)
        return self.min_ratio + (1.0 - self.min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
