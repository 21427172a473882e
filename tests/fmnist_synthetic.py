"""A small synthetic Fashion-MNIST folder (gzip idx files) for command tests: a label-dependent bright band."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzip-compressed idx file."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def striped_images(labels: np.ndarray, seed: int) -> np.ndarray:
    """uint8 (N, 28, 28): noise with a bright horizontal band whose row depends on the label."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (len(labels), 28, 28))
    for index, label in enumerate(labels):
        images[index, 4 + 2 * label : 6 + 2 * label, 4:24] = 230
    return images.astype(np.uint8)


def write_synthetic_fashion_mnist(folder: Path, train_count: int = 300, test_count: int = 200) -> Path:
    """The four idx files of a Fashion-MNIST folder, with balanced labels 0-9."""
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count, seed in (("train", train_count, 1), ("t10k", test_count, 2)):
        labels = np.arange(count) % 10
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", striped_images(labels, seed))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder
