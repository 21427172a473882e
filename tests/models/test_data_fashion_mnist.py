"""Fashion-MNIST idx reader: shapes, labels and malformed files."""
import gzip

import numpy as np
import pytest
import torch

from models.data import FASHION_MNIST_CLASSES, FashionMNIST, load_fashion_mnist, read_idx
from tests.shared_data import shared_data



@pytest.mark.parametrize("split, count, mean_pixel, first_labels", [
    ("train", 60_000, 72.940, [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]),
    ("test", 10_000, 73.147, [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]),
])
def test_splits_have_the_published_sizes_and_balanced_labels(split, count, mean_pixel, first_labels):
    images, labels = load_fashion_mnist(shared_data("fashion-mnist"), split)
    assert images.shape == (count, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (count,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == [count // 10] * len(FASHION_MNIST_CLASSES)
    assert labels[:10].tolist() == first_labels
    assert images.double().mean().item() == pytest.approx(mean_pixel, abs=1e-3)


def test_dataset_items_are_float_images_with_int_labels():
    dataset = FashionMNIST(shared_data("fashion-mnist"), "test")
    image, label = dataset[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and isinstance(label, int) and 0 <= label <= 9


def test_idx_files_raw_and_gzip(tmp_path):
    array = np.arange(24, dtype=">i2").reshape(2, 3, 4)
    payload = bytes([0, 0, 0x0B, 3]) + np.array([2, 3, 4], dtype=">u4").tobytes() + array.tobytes()
    (tmp_path / "raw").write_bytes(payload)
    (tmp_path / "zipped.gz").write_bytes(gzip.compress(payload))
    for name in ("raw", "zipped.gz"):
        result = read_idx(tmp_path / name)
        assert result.dtype == np.int16 and np.array_equal(result, array)


@pytest.mark.parametrize("payload, message", [
    (b"\x12\x34\x08\x01\x00\x00\x00\x02\x01\x02", "bad magic number"),
    (bytes([0, 0, 8, 1]) + np.array([5], dtype=">u4").tobytes() + b"\x01\x02", "holds 2 data bytes"),
    (bytes([0, 0, 8, 3, 0, 0]), "truncated"),
])
def test_malformed_idx_files_are_rejected(tmp_path, payload, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_missing_files_and_bad_split_names(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_fashion_mnist(tmp_path, "train")
    with pytest.raises(ValueError, match="split must be one of"):
        load_fashion_mnist(tmp_path, "validation")
