"""Tokenizer training batches: images decoded once, seeded crops, one global sample stream sharded over ranks."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from models.data import ResumableSampler, SampleKey, derived_generator, list_image_files, load_image
from models.data.crops import random_crop_flip, resize_shorter_side


class DecodedRandomCrops(Dataset):
    """The crops of `ImageFolderDataset(root, train=True, crop_size, seed=seed)`, from images decoded once.

    Decoding a ~1 MP JPEG per sample costs ~10 ms of CPU, which would starve a GPU; here every file is
    decoded at construction and kept as uint8 (shared with forked DataLoader workers; an image that
    must be scaled up to the crop size is kept as float instead). For a key
    SampleKey(epoch, index) the crop position and flip come from the same generator seeded by
    (seed, epoch, index), so the crops are identical to those of the image-folder dataset.
    """

    def __init__(self, root: str | Path, crop_size: int, seed: int, hflip: bool = True) -> None:
        self.files = list_image_files(root)
        self.crop_size = crop_size
        self.seed = seed
        self.hflip = hflip
        self.images = [self._decode(path) for path in self.files]

    def _decode(self, path: Path) -> torch.Tensor:
        image = load_image(path)
        if min(image.shape[-2:]) < self.crop_size:
            return resize_shorter_side(image, self.crop_size)
        return (image * 255.0).round().to(torch.uint8)  # exact: load_image divides 8-bit values by 255

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key: SampleKey) -> torch.Tensor:
        generator = derived_generator(self.seed, key.epoch, key.index)
        crop = random_crop_flip(self.images[key.index], self.crop_size, generator, self.hflip)
        return crop.float() / 255.0 if crop.dtype == torch.uint8 else crop


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


def training_loader(dataset: DecodedRandomCrops, sampler: ShardedBatchSampler, num_workers: int,
                    pin_memory: bool) -> DataLoader:
    return DataLoader(dataset, batch_sampler=sampler, num_workers=num_workers, pin_memory=pin_memory,
                      persistent_workers=False, prefetch_factor=4 if num_workers else None)
