"""The FID variant of InceptionV3 (TF 2015-12-05 graph layout), loaded only from a user weights file.

The layout is that of pytorch-fid's converted TensorFlow graph: torchvision's Inception3 blocks with
1008 classes, average pools in the Mixed_5*, Mixed_6b-e and Mixed_7b pool branches that exclude the
zero padding from the mean, and a max pool in the Mixed_7c pool branch. Weights are never downloaded:
pass pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (or a safetensors copy of it).
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import inception as tv_inception

from models.metrics.image_checks import check_images
from models.weights_io import load_state_strict

INCEPTION_INPUT_SIZE = 299
INCEPTION_CLASSES = 1008
INCEPTION_POOL3_DIM = 2048
_STAGES = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
    "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
    "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c",
)


class _PoolBranchOverride:
    """Mixin for torchvision Inception blocks whose last output is `branch_pool(pool(x))`: redo it
    with the TF graph's pooling (the 1x1 convolution of the pool branch is cheap to run twice)."""

    def _tf_pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        branches = super()._forward(x)
        branches[-1] = self.branch_pool(self._tf_pool(x))
        return branches


class _InceptionA(_PoolBranchOverride, tv_inception.InceptionA):
    pass


class _InceptionC(_PoolBranchOverride, tv_inception.InceptionC):
    pass


class _InceptionE(_PoolBranchOverride, tv_inception.InceptionE):
    pass


class _InceptionEMaxPool(_InceptionE):
    def _tf_pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class InceptionOutputs(NamedTuple):
    pool3: torch.Tensor  # (B, 2048) features used by FID and precision/recall
    logits_unbiased: torch.Tensor  # (B, 1008) pool3 @ fc.weight.T, the logits of the Inception Score


class FIDInceptionV3(nn.Module):
    """InceptionV3 as used by FID: images in [0, 1], resized bilinearly to 299x299."""

    def __init__(self) -> None:
        super().__init__()
        blocks = [tv_inception.BasicConv2d, _InceptionA, tv_inception.InceptionB, _InceptionC,
                  tv_inception.InceptionD, _InceptionE, tv_inception.InceptionAux]
        self.net = tv_inception.Inception3(
            num_classes=INCEPTION_CLASSES, aux_logits=False, transform_input=False,
            inception_blocks=blocks, init_weights=False,
        )
        self.net.Mixed_7c = _InceptionEMaxPool(2048)
        self.eval()
        self.requires_grad_(False)

    def forward(self, images_BCHW: torch.Tensor) -> InceptionOutputs:
        check_images(images_BCHW)
        if images_BCHW.shape[1] != 3:
            raise ValueError(f"InceptionV3 needs RGB images (3 channels), got {images_BCHW.shape[1]}")
        x = F.interpolate(images_BCHW, size=(INCEPTION_INPUT_SIZE,) * 2, mode="bilinear", align_corners=False)
        x = 2 * x - 1
        for stage in _STAGES:
            x = getattr(self.net, stage)(x)
        pool3 = x.mean(dim=(2, 3))
        return InceptionOutputs(pool3=pool3, logits_unbiased=pool3 @ self.net.fc.weight.T)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch/safetensors raise several unrelated types for corrupt files
        raise ValueError(
            f"cannot read Inception weights file {path} as a torch state dict or safetensors file: {error}"
        ) from error
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ValueError(f"Inception weights file {path} does not hold a flat state dict of tensors")
    return state


def load_fid_inception(weights_path: str | Path, device: str | torch.device = "cpu") -> FIDInceptionV3:
    """Build FIDInceptionV3 and load the user's weights file (state dict keys as in pytorch-fid)."""
    path = Path(weights_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Inception weights file {path} does not exist; pass pytorch-fid's "
            "pt_inception-2015-12-05-6726825d.pth (or a safetensors copy), or leave it out to get "
            "FD-VGG16 only"
        )
    model = FIDInceptionV3()
    load_state_strict(model.net, _read_state_dict(path), f"Inception weights file {path}")
    return model.to(device)
