"""The project's Fashion-MNIST classifier (the FD-FMNIST feature network), its input convention and weights.

A small VGG-style CNN (Simonyan & Zisserman 2014, arXiv 1409.1556: stacked 3x3 convolutions and max
pooling) with batch normalisation (Ioffe & Szegedy 2015, arXiv 1502.03167); its 128-d penultimate
layer gives the features of FD-FMNIST and of the k-NN precision/recall.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.weights_io import load_safetensors_strict, save_safetensors_atomic

FMNIST_SIDE = 28
PADDED_SIDE = 32  # 28x28 images zero-padded by 2 px per side; center-cropped back to 28x28 here
NUM_CLASSES = 10
FEATURE_DIM = 128
# Per-pixel mean and standard deviation of the 60,000 Fashion-MNIST training images in [0, 1].
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530
# ITU-R BT.601 luma weights: a grey image repeated over 3 channels maps back to itself.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "fmnist_classifier.safetensors"
DEFAULT_WEIGHTS_SHA256 = "b10101d1ceee65fc72470cc96f8368b9cdea2b2db087db8fe7f37908580e09c0"


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class FashionMNISTClassifier(nn.Module):
    """(B, 1, 28, 28) images in [0, 1] -> 10 class logits; `features` gives the 128-d penultimate layer."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            *_conv_block(1, 32), nn.MaxPool2d(2),
            *_conv_block(32, 64), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * (FMNIST_SIDE // 4) ** 2, FEATURE_DIM, bias=False),
            nn.BatchNorm1d(FEATURE_DIM),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def features(self, images_B1HW: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (B, 128), the FD-FMNIST features."""
        return self.trunk((images_B1HW - FMNIST_MEAN) / FMNIST_STD)

    def forward(self, images_B1HW: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images_B1HW))


def classifier_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Images as the classifier reads them: float32 (N, 1, 28, 28) in [0, 1].

    Accepts (N, H, W) or (N, C, H, W) with C = 1 or 3 (3 channels are mixed to grey with the BT.601
    luma weights) and H = W = 28 or 32 (32x32 is center-cropped to 28x28, undoing the 2-px padding);
    uint8 images are divided by 255, float images must be finite and within [0, 1].
    """
    images_t = torch.as_tensor(images)
    if images_t.dtype != torch.uint8 and not images_t.is_floating_point():
        raise TypeError(f"images must be uint8 or float in [0, 1], got dtype {images_t.dtype}")
    if images_t.ndim == 3:
        images_t = images_t.unsqueeze(1)
    if images_t.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, C, H, W), got {tuple(images_t.shape)}")
    count, channels, height, width = images_t.shape
    if count == 0:
        raise ValueError("images are empty (N = 0)")
    if channels not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got {channels} (shape {tuple(images_t.shape)})")
    if height != width or height not in (FMNIST_SIDE, PADDED_SIDE):
        raise ValueError(
            f"images must be {FMNIST_SIDE}x{FMNIST_SIDE} or {PADDED_SIDE}x{PADDED_SIDE}, got {height}x{width}"
        )
    if images_t.dtype == torch.uint8:
        images_t = images_t.float().div_(255)
    else:
        images_t = images_t.float()
        if not torch.isfinite(images_t).all():
            raise ValueError("images contain NaN or infinite values")
        if images_t.min() < 0 or images_t.max() > 1:
            raise ValueError(
                f"float images must lie in [0, 1], got [{images_t.min().item():.4g}, {images_t.max().item():.4g}]"
            )
    if channels == 3:
        images_t = torch.einsum("nchw,c->nhw", images_t, torch.tensor(LUMA_WEIGHTS)).unsqueeze(1)
    margin = (height - FMNIST_SIDE) // 2
    return images_t[:, :, margin : margin + FMNIST_SIDE, margin : margin + FMNIST_SIDE].contiguous()


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sha256_sidecar(weights_path: str | Path) -> Path:
    """FILE.safetensors.sha256, written beside trained weights in `sha256sum` format."""
    weights_path = Path(weights_path)
    return weights_path.with_name(weights_path.name + ".sha256")


def save_classifier(model: FashionMNISTClassifier, path: str | Path) -> str:
    """Write the weights as safetensors and their sha256 sidecar; returns the sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_safetensors_atomic(model, path)
    digest = file_sha256(path)
    sha256_sidecar(path).write_text(f"{digest}  {path.name}\n")
    return digest


def expected_sha256(path: str | Path) -> str:
    """The recorded sha256 of a weights file: the constant for the packaged weights, else its sidecar."""
    path = Path(path)
    if path.resolve() == DEFAULT_WEIGHTS:
        return DEFAULT_WEIGHTS_SHA256
    sidecar = sha256_sidecar(path)
    if not sidecar.is_file():
        raise FileNotFoundError(
            f"classifier weights {path} have no sha256 file {sidecar} (written by slq train-fmnist-classifier)"
        )
    fields = sidecar.read_text().split()
    return fields[0].lower() if fields else ""


def load_classifier(
    path: str | Path | None = None, device: str | torch.device = "cpu"
) -> tuple[FashionMNISTClassifier, str]:
    """The classifier in eval mode and its weights' sha256, checked against the recorded one.

    `path=None` loads the packaged weights. A file whose sha256 differs from the record raises a
    ValueError naming the file, before any weight is read.
    """
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"classifier weights file {path} does not exist")
    expected, actual = expected_sha256(path), file_sha256(path)
    if actual != expected:
        raise ValueError(
            f"classifier weights file {path} has sha256 {actual}, but {expected or 'nothing'} was recorded"
        )
    model = FashionMNISTClassifier()
    load_safetensors_strict(model, path, "Fashion-MNIST classifier")
    return model.to(device).eval(), actual
