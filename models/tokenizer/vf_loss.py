"""VF alignment loss (VA-VAE style) between projected tokenizer latents and frozen DINOv2 features built with timm."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from models.weights_io import load_state_strict, read_safetensors

# DINOv2 was trained on ImageNet-normalized inputs.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class DinoFeatures(nn.Module):
    """Frozen DINOv2 ViT (timm, no download) returning patch features resampled to a given token grid.

    The weights come from a user-supplied safetensors file (timm or original DINOv2 key layout; the
    position table of any training resolution is resampled to `image_size`).
    Images in [0, 1] are resized to `image_size` (a multiple of the model's patch, 14), normalized with the
    ImageNet statistics, and the final-norm patch tokens (prefix tokens dropped) are bilinearly resized
    to the requested (h, w) grid when it differs from image_size / 14.
    """

    def __init__(self, weights_path: str | Path, image_size: int, model_name: str = "vit_small_patch14_dinov2") -> None:
        super().__init__()
        import timm
        from timm.models.vision_transformer import checkpoint_filter_fn

        weights = read_safetensors(weights_path, f"DINOv2 ({model_name})")
        with torch.device("meta"):  # no random initialization: every tensor comes from the file
            self.model = timm.create_model(model_name, pretrained=False, img_size=image_size, num_classes=0)
        patch = self.model.patch_embed.patch_size[0]
        if image_size % patch:
            raise ValueError(f"DINOv2 image size {image_size} is not a multiple of its patch size {patch}")
        # timm's filter converts the original DINOv2 layout and resamples pos_embed to this image size.
        state = checkpoint_filter_fn(weights, self.model)
        load_state_strict(self.model, state, f"DINOv2 ({model_name}) weights file {weights_path}", assign=True)
        self.image_size = image_size
        self.feature_grid = image_size // patch
        self.feature_dim = self.model.num_features
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.model.eval()
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> "DinoFeatures":
        """Stay in eval mode whatever the caller's mode."""
        return super().train(False)

    @torch.no_grad()
    def forward(self, images_B3HW: torch.Tensor, grid_hw: tuple[int, int]) -> torch.Tensor:
        """(B, h, w, feature_dim) features for images in [0, 1]."""
        size = (self.image_size, self.image_size)
        if tuple(images_B3HW.shape[-2:]) != size:
            images_B3HW = F.interpolate(images_B3HW, size=size, mode="bicubic", align_corners=False, antialias=True)
        tokens_BNC = self.model.forward_features((images_B3HW - self.mean) / self.std)
        patches_BNC = tokens_BNC[:, self.model.num_prefix_tokens:]
        batch, _, channels = patches_BNC.shape
        features_BChw = patches_BNC.transpose(1, 2).reshape(batch, channels, self.feature_grid, self.feature_grid)
        if tuple(grid_hw) != (self.feature_grid, self.feature_grid):
            features_BChw = F.interpolate(features_BChw, size=tuple(grid_hw), mode="bilinear", align_corners=False)
        return features_BChw.permute(0, 2, 3, 1)


def vf_alignment_losses(
    projected_BhwC: torch.Tensor, features_BhwC: torch.Tensor, margin_cos: float, margin_distance: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(marginal cosine loss, marginal distance-matrix loss) of VA-VAE, both scalars.

    cosine:   mean over tokens of relu(1 - m1 - cos(z'_i, f_i))
    distance: mean over token pairs (i, j) of one image of relu(|cos(z'_i, z'_j) - cos(f_i, f_j)| - m2)
    where z' is the latent after the trainable linear projection to the feature width.
    """
    if projected_BhwC.shape != features_BhwC.shape:
        raise ValueError(f"projected latents {tuple(projected_BhwC.shape)} and DINOv2 features "
                         f"{tuple(features_BhwC.shape)} must have the same shape")
    z_BNC = F.normalize(projected_BhwC.flatten(1, 2).float(), dim=-1)
    f_BNC = F.normalize(features_BhwC.flatten(1, 2).float(), dim=-1)
    cosine = F.relu(1.0 - margin_cos - (z_BNC * f_BNC).sum(-1)).mean()
    similarity_gap_BNN = (z_BNC @ z_BNC.transpose(1, 2)) - (f_BNC @ f_BNC.transpose(1, 2))
    distance = F.relu(similarity_gap_BNN.abs() - margin_distance).mean()
    return cosine, distance
