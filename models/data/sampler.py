"""Seeded, resumable sample orders: an endless stream with state (seed, epoch, position), and its per-rank batches."""
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


class ShardedBatchSampler(Sampler[list[SampleKey]]):
    """Batches of one rank: global batch `step` is samples [step·B, (step+1)·B) of one seeded endless stream.

    The stream is `ResumableSampler(num_samples, seed)`; rank r of R takes the r-th contiguous B/R
    slice of every global batch, so the union over ranks, and hence the training data, does not
    depend on the number of ranks. `start_state` (a `ResumableSampler.state_after` dict) says
    where global batch `start_step` begins; it is what a checkpoint stores as the data position.
    """

    def __init__(self, num_samples: int, global_batch: int, rank: int, world_size: int, start_state: dict[str, int],
                 start_step: int, end_step: int) -> None:
        if global_batch % world_size:
            raise ValueError(f"the global batch {global_batch} is not divisible by the {world_size} ranks")
        self.num_samples = num_samples
        self.global_batch = global_batch
        self.local_batch = global_batch // world_size
        self.rank = rank
        self.start_state = dict(start_state)
        self.start_step = start_step
        self.end_step = end_step

    def __len__(self) -> int:
        return max(0, self.end_step - self.start_step)

    def __iter__(self) -> Iterator[list[SampleKey]]:
        stream = iter(ResumableSampler(self.num_samples, **self.start_state))
        first = self.rank * self.local_batch
        for _ in range(len(self)):
            keys = [next(stream) for _ in range(self.global_batch)]
            yield keys[first:first + self.local_batch]


def data_state(num_samples: int, seed: int, global_batch: int, step: int) -> dict[str, int]:
    """Sampler state {seed, epoch, position} at the start of global batch `step`."""
    return ResumableSampler(num_samples, seed).state_after(step * global_batch)
