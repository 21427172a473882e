"""A seeded, resumable, endless order of dataset indices whose state is (seed, epoch, position)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Sampler


class SampleKey(NamedTuple):
    """What the sampler hands to the dataset: which sample, and in which epoch (seeds its crop)."""

    epoch: int
    index: int


def derived_generator(*keys: int) -> torch.Generator:
    """A torch.Generator seeded from a tuple of non-negative integers (e.g. seed, epoch, index)."""
    if any(int(key) != key or key < 0 for key in keys):
        raise ValueError(f"seed keys must be non-negative integers, got {keys}")
    state = np.random.SeedSequence([int(key) for key in keys]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def epoch_order(num_samples: int, seed: int, epoch: int, shuffle: bool = True) -> torch.Tensor:
    """The permutation of range(num_samples) used in `epoch`, a function of (seed, epoch) only."""
    if not shuffle:
        return torch.arange(num_samples)
    return torch.randperm(num_samples, generator=derived_generator(seed, epoch))


class ResumableSampler(Sampler[SampleKey]):
    """Endless stream of SampleKey(epoch, index): epoch e visits the indices in `epoch_order(e)`.

    The stream is a pure function of (seed, num_samples, shuffle); the state (seed, epoch, position)
    marks where it starts. A trainer that has consumed `n` samples saves `state_after(n)` and resumes
    with `ResumableSampler(num_samples, **state)`, which continues the identical sequence (the
    DataLoader's prefetching does not matter, since only consumed samples are counted).
    """

    def __init__(
        self, num_samples: int, seed: int = 0, epoch: int = 0, position: int = 0, shuffle: bool = True
    ) -> None:
        if num_samples < 1:
            raise ValueError(f"num_samples must be positive, got {num_samples}")
        if epoch < 0 or not 0 <= position < num_samples:
            raise ValueError(f"invalid sampler state: epoch={epoch}, position={position} for {num_samples} samples")
        self.num_samples = num_samples
        self.seed = seed
        self.epoch = epoch
        self.position = position
        self.shuffle = shuffle

    def __iter__(self) -> Iterator[SampleKey]:
        epoch, position = self.epoch, self.position
        while True:
            order = epoch_order(self.num_samples, self.seed, epoch, self.shuffle)
            for index in order[position:].tolist():
                yield SampleKey(epoch, index)
            epoch, position = epoch + 1, 0

    def state_after(self, consumed: int) -> dict[str, int]:
        """The state {seed, epoch, position} of the stream after `consumed` samples from this start."""
        if consumed < 0:
            raise ValueError(f"consumed must be non-negative, got {consumed}")
        epoch, position = divmod(self.epoch * self.num_samples + self.position + consumed, self.num_samples)
        return {"seed": self.seed, "epoch": epoch, "position": position}
