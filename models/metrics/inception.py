"""The FID InceptionV3 (TF 2015-12-05 graph) from pytorch-fid's blocks, loaded only from a user weights file.

InceptionV3: Szegedy et al., "Rethinking the Inception Architecture for Computer Vision" (arXiv
1512.00567); FID: Heusel et al. (arXiv 1706.08500). The layout is pytorch-fid's `fid_inception_v3`:
torchvision's Inception3 with 1008 classes and pytorch-fid's FIDInceptionA/C/E_1/E_2 blocks (average
pools that exclude the zero padding, a max pool in Mixed_7c). That builder itself downloads the
weights, so the same blocks are put in place here instead and the user's file is loaded:
pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (or a safetensors copy). Never downloads.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from pytorch_fid import inception as fid_inception
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
# The blocks that pytorch-fid's fid_inception_v3 swaps into torchvision's Inception3, with their arguments.
_FID_BLOCKS = {
    "Mixed_5b": (fid_inception.FIDInceptionA, 192, 32), "Mixed_5c": (fid_inception.FIDInceptionA, 256, 64),
    "Mixed_5d": (fid_inception.FIDInceptionA, 288, 64), "Mixed_6b": (fid_inception.FIDInceptionC, 768, 128),
    "Mixed_6c": (fid_inception.FIDInceptionC, 768, 160), "Mixed_6d": (fid_inception.FIDInceptionC, 768, 160),
    "Mixed_6e": (fid_inception.FIDInceptionC, 768, 192), "Mixed_7b": (fid_inception.FIDInceptionE_1, 1280),
    "Mixed_7c": (fid_inception.FIDInceptionE_2, 2048),
}


class InceptionOutputs(NamedTuple):
    pool3: torch.Tensor  # (B, 2048) features used by FID and precision/recall
    logits_unbiased: torch.Tensor  # (B, 1008) pool3 @ fc.weight.T, the logits of the Inception Score


class FIDInceptionV3(nn.Module):
    """InceptionV3 as used by FID: images in [0, 1], resized bilinearly to 299x299."""

    def __init__(self) -> None:
        super().__init__()
        self.net = tv_inception.Inception3(num_classes=INCEPTION_CLASSES, aux_logits=False, transform_input=False,
                                           init_weights=False)
        for name, (block, *arguments) in _FID_BLOCKS.items():
            setattr(self.net, name, block(*arguments))
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
