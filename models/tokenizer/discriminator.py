"""PatchGAN discriminator (pix2pix / VQGAN layout, GroupNorm instead of BatchNorm) and the hinge GAN losses."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def _group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(32, channels), channels)


class PatchDiscriminator(nn.Module):
    """(B, 3, H, W) images in [0, 1] -> (B, 1, h, w) real/fake logits, one per overlapping patch.

    A stride-2 4×4 convolution, `num_layers` - 1 more stride-2 4×4 convolutions doubling the channels
    (capped at 8× `channels`), one stride-1 4×4 convolution, then a 4×4 convolution to one logit map;
    LeakyReLU(0.2) between them. GroupNorm keeps the per-rank statistics of DDP out of the picture.
    """

    def __init__(self, channels: int = 64, num_layers: int = 3) -> None:
        super().__init__()
        if channels < 1 or num_layers < 1:
            raise ValueError(f"discriminator channels and num_layers must be positive, got {channels}, {num_layers}")
        layers: list[nn.Module] = [nn.Conv2d(3, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        width = channels
        for layer in range(1, num_layers + 1):
            next_width = channels * min(2**layer, 8)
            stride = 2 if layer < num_layers else 1
            layers += [
                nn.Conv2d(width, next_width, 4, stride=stride, padding=1, bias=False),
                _group_norm(next_width),
                nn.LeakyReLU(0.2),
            ]
            width = next_width
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, images_B3HW: torch.Tensor) -> torch.Tensor:
        return self.layers(images_B3HW * 2.0 - 1.0)


def hinge_discriminator_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """½ (E[relu(1 - D(x))] + E[relu(1 + D(x̂))])."""
    return 0.5 * (F.relu(1.0 - logits_real).mean() + F.relu(1.0 + logits_fake).mean())


def hinge_generator_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """-E[D(x̂)]."""
    return -logits_fake.mean()
