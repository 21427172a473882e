"""Training crops of an image folder, decoded once: the tokenizer's training data set."""
from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import Dataset

from models.data.crops import random_crop_flip, resize_shorter_side
from models.data.image_files import list_image_files, load_image
from models.data.sampler import SampleKey, derived_generator


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
