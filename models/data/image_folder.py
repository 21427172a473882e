"""Dataset of the PNG/JPEG files under a folder: seeded random crops for training, fixed crops for evaluation."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset

from models.data.crops import center_crop, random_crop_flip, resize_shorter_side
from models.data.image_files import UnreadableImageError, list_image_files, load_image
from models.data.sampler import SampleKey, derived_generator


class ImageFolderDataset(Dataset):
    """Float RGB (3, H, W) images in [0, 1] from the image files under `root` (sorted paths).

    train=True: optional resize of the shorter side to `resize` (images whose shorter side is below
    `crop_size` are scaled up to it), then a `crop_size` square at a random position and a random
    left-right flip, both drawn from a generator seeded by (seed, epoch, index). Index it with the
    SampleKey(epoch, index) of a ResumableSampler (a plain int means epoch 0).
    train=False: optional resize, then a center crop of `crop_size`, or the full image when
    crop_size is None (then images may differ in size: use batch_size=1).

    An unreadable file raises UnreadableImageError naming it; with skip_unreadable=True it is
    replaced, with a warning, by the next readable file in sorted order.
    """

    def __init__(
        self,
        root: str | Path,
        train: bool,
        crop_size: int | None = 256,
        resize: int | None = None,
        hflip: bool = True,
        seed: int = 0,
        skip_unreadable: bool = False,
        recursive: bool = True,
        files: Sequence[str | Path] | None = None,
    ) -> None:
        if train and crop_size is None:
            raise ValueError("training needs a crop_size (batches need images of one size)")
        self.root = Path(root)
        self.files = [Path(path) for path in files] if files is not None else list_image_files(root, recursive)
        if not self.files:
            raise ValueError(f"no image files given for {root}")
        self.train = train
        self.crop_size = crop_size
        self.resize = resize
        self.hflip = hflip
        self.seed = seed
        self.skip_unreadable = skip_unreadable
        self._unreadable: set[Path] = set()

    def __len__(self) -> int:
        return len(self.files)

    @property
    def names(self) -> list[str]:
        """File paths relative to the root, in dataset order."""
        return [
            path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.name
            for path in self.files
        ]

    def _load(self, index: int) -> torch.Tensor:
        for offset in range(len(self.files)):
            path = self.files[(index + offset) % len(self.files)]
            if path in self._unreadable:
                continue
            try:
                return load_image(path)
            except UnreadableImageError as error:
                if not self.skip_unreadable:
                    raise UnreadableImageError(
                        f"{error}; remove or replace the file (ImageFolderDataset(skip_unreadable=True) skips such "
                        "files with a warning)", path
                    ) from error
                self._unreadable.add(path)
                warnings.warn(f"skipping unreadable image: {error}", stacklevel=3)
        raise ValueError(f"none of the {len(self.files)} image files under {self.root} is readable")

    def __getitem__(self, key: int | SampleKey) -> torch.Tensor:
        epoch, index = (key.epoch, key.index) if isinstance(key, SampleKey) else (0, int(key))
        if not 0 <= index < len(self.files):
            raise IndexError(f"index {index} out of range for {len(self.files)} images")
        image = self._load(index)
        if self.resize is not None:
            image = resize_shorter_side(image, self.resize)
        if self.crop_size is None:
            return image
        if min(image.shape[-2:]) < self.crop_size:
            image = resize_shorter_side(image, self.crop_size)
        if self.train:
            return random_crop_flip(image, self.crop_size, derived_generator(self.seed, epoch, index), self.hflip)
        return center_crop(image, self.crop_size)
