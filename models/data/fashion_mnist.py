"""Fashion-MNIST from its idx files (gzip or raw): 28x28 grey images with labels 0-9."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# idx element type code -> big-endian numpy dtype
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (the MNIST format), gzip-compressed or not, into a native-endian array."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"idx file {path} does not exist")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"idx file {path} is not valid gzip: {error}") from error
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an idx file (bad magic number {raw[:4].hex()})")
    dims_count = raw[3]
    header_size = 4 + 4 * dims_count
    if len(raw) < header_size:
        raise ValueError(f"idx file {path} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=dims_count, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header_size != expected:
        raise ValueError(
            f"idx file {path} holds {len(raw) - header_size} data bytes, but its header {shape} needs {expected}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape).astype(dtype.newbyteorder("="))


def _split_path(root: Path, stem: str) -> Path:
    for candidate in (root / f"{stem}.gz", root / stem):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"Fashion-MNIST file {stem}(.gz) not found in {root}")


def load_fashion_mnist(root: str | Path, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Images uint8 (N, 28, 28) and labels int64 (N,) of the "train" (60,000) or "test" (10,000) split."""
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(_SPLIT_FILES)}, got {split!r}")
    root = Path(root)
    images_stem, labels_stem = _SPLIT_FILES[split]
    images = read_idx(_split_path(root, images_stem))
    labels = read_idx(_split_path(root, labels_stem))
    if images.ndim != 3 or images.dtype != np.uint8 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"Fashion-MNIST {split} files in {root} disagree: images {images.shape} {images.dtype}, "
            f"labels {labels.shape}"
        )
    if labels.min() < 0 or labels.max() >= len(FASHION_MNIST_CLASSES):
        raise ValueError(f"Fashion-MNIST {split} labels out of range 0-9: [{labels.min()}, {labels.max()}]")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


class FashionMNIST(Dataset):
    """(image float (1, 28, 28) in [0, 1], label int) pairs of one Fashion-MNIST split."""

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.images_NHW, self.labels_N = load_fashion_mnist(root, split)

    def __len__(self) -> int:
        return len(self.labels_N)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images_NHW[index].float().div(255).unsqueeze(0), int(self.labels_N[index])


GENERATION_SIDE = 32


def to_rgb32(images_NHW: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) grey images -> uint8 (N, 3, 32, 32): zero-padded by 2 pixels, the grey value in each channel.

    The 32x32 RGB form is what the tokenizers and generators of this project see (an 8x8 latent at patch 4).
    """
    if images_NHW.dtype != torch.uint8 or images_NHW.ndim != 3 or tuple(images_NHW.shape[1:]) != (28, 28):
        raise ValueError(f"expected uint8 images of shape (N, 28, 28), got {images_NHW.dtype} {tuple(images_NHW.shape)}")
    padded_NHW = torch.nn.functional.pad(images_NHW, (2, 2, 2, 2))
    return padded_NHW[:, None].expand(-1, 3, -1, -1).contiguous()


class FashionMNIST32(Dataset):
    """One split as float (3, 32, 32) images in [0, 1] (see `to_rgb32`), indexed by int or by a sampler's SampleKey."""

    def __init__(self, root: str | Path, split: str = "train") -> None:
        images_NHW, self.labels_N = load_fashion_mnist(root, split)
        self.images_N3HW = to_rgb32(images_NHW)

    def __len__(self) -> int:
        return len(self.labels_N)

    def __getitem__(self, key) -> torch.Tensor:
        index = key.index if hasattr(key, "index") and not isinstance(key, int) else int(key)
        return self.images_N3HW[index].float().div(255)
