"""ViT autoencoder tokenizer: encoder, width -> latent -> width projections around any `quantizers.build` quantizer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

import quantizers
from models.tokenizer.vit import ViTDecoder, ViTEncoder, check_image_batch
from quantizers.base import QuantizerOutput, normalize_rows

# Size presets (ViT naming): the encoder and the decoder each have `depth` blocks of this width.
MODEL_PRESETS: dict[str, dict[str, int]] = {
    "S": {"width": 384, "encoder_depth": 12, "decoder_depth": 12, "num_heads": 6},
    "B": {"width": 768, "encoder_depth": 12, "decoder_depth": 12, "num_heads": 12},
    "L": {"width": 1024, "encoder_depth": 24, "decoder_depth": 24, "num_heads": 16},
}


@dataclass
class TokenizerConfig:
    """Architecture of the tokenizer.

    A non-empty `preset` fixes width, depths and heads to `MODEL_PRESETS[preset]` (a config file may
    leave them out: `with_preset_defaults` fills them in); `preset: ""` sizes the model freely.
    """

    preset: str = "S"
    width: int = 384
    encoder_depth: int = 12
    decoder_depth: int = 12
    num_heads: int = 6
    mlp_ratio: float = 4.0
    patch_size: int = 8
    latent_dim: int = 24
    pos_embed: Literal["sincos", "learned"] = "sincos"
    # Image side at which sin-cos positions are the integers 0..side/patch-1 (the learned table's grid).
    reference_size: int = 256
    # "l2": latents are projected onto the unit sphere before quantization (spherical codebooks).
    latent_norm: Literal["l2", "none"] = "l2"
    quantizer: str = "leech24"
    quantizer_kwargs: dict[str, Any] = field(default_factory=dict)
    # Non-empty: residual quantization over these scales (side lengths of square token maps, the last
    # one the latent grid, image side / patch_size), VAR-style (quantizers.MultiScaleResidualQuantizer).
    scales: list[int] = field(default_factory=list)
    phi: Literal["none", "shared", "partial", "unshared"] = "partial"
    phi_count: int = 4
    phi_ratio: float = 0.5
    upsample: Literal["bicubic", "bilinear"] = "bicubic"

    def __post_init__(self) -> None:
        if self.preset:
            if self.preset not in MODEL_PRESETS:
                raise ValueError(f"unknown model preset {self.preset!r}; expected one of "
                                 f"{sorted(MODEL_PRESETS)} or '' (custom size)")
            for name, value in MODEL_PRESETS[self.preset].items():
                if getattr(self, name) != value:
                    raise ValueError(f"model.{name}={getattr(self, name)} conflicts with preset {self.preset!r} "
                                     f"({name}={value}); set model.preset to '' for a custom size")
        for name in ("width", "encoder_depth", "decoder_depth", "num_heads", "patch_size", "latent_dim",
                     "reference_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.{name} must be positive, got {getattr(self, name)}")
        if any(not isinstance(side, int) or side < 1 for side in self.scales) or self.scales != sorted(self.scales):
            raise ValueError(f"model.scales must be increasing positive integers, got {self.scales}")
        if self.reference_size % self.patch_size:
            raise ValueError(f"model.reference_size {self.reference_size} is not a multiple of "
                             f"model.patch_size {self.patch_size}")


def with_preset_defaults(model_mapping: dict[str, Any]) -> dict[str, Any]:
    """A model config mapping with the preset's width/depths/heads filled in where the mapping has none."""
    preset = model_mapping.get("preset", TokenizerConfig.preset)
    if not isinstance(preset, str) or preset not in MODEL_PRESETS:
        return dict(model_mapping)  # custom size, or an invalid preset that TokenizerConfig reports
    return {**MODEL_PRESETS[preset], **model_mapping}


@dataclass
class TokenizerOutput:
    """One autoencoding pass: reconstruction, latent before quantization (normalized if so set), quantizer output."""

    reconstruction: torch.Tensor
    latent: torch.Tensor
    quantizer: QuantizerOutput


class Tokenizer(nn.Module):
    """Images in [0, 1], (B, 3, H, W) with H and W multiples of the patch -> discrete tokens -> reconstruction."""

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__()
        self.config = config
        self.quantizer = quantizers.build(config.quantizer, **config.quantizer_kwargs)
        if config.scales:
            self.quantizer = quantizers.MultiScaleResidualQuantizer(
                self.quantizer, config.scales, upsample=config.upsample, phi=config.phi,
                phi_count=config.phi_count, phi_ratio=config.phi_ratio)
        if self.quantizer.channel_first:
            raise ValueError("the tokenizer feeds channel-last latents (B, h, w, d): build the quantizer "
                             "with channel_first=False")
        if self.quantizer.dim != config.latent_dim:
            raise ValueError(f"quantizer {config.quantizer!r} works in dimension {self.quantizer.dim} but "
                             f"model.latent_dim is {config.latent_dim}")
        shape = dict(
            width=config.width, num_heads=config.num_heads, mlp_ratio=config.mlp_ratio,
            patch_size=config.patch_size, latent_dim=config.latent_dim, pos_embed=config.pos_embed,
            reference_size=config.reference_size,
        )
        self.encoder = ViTEncoder(depth=config.encoder_depth, **shape)
        self.decoder = ViTDecoder(depth=config.decoder_depth, **shape)

    def set_grad_checkpointing(self, enabled: bool) -> None:
        """Recompute each transformer block's activations in the backward pass (less memory, ~1/3 more compute)."""
        self.encoder.transformer.grad_checkpointing = enabled
        self.decoder.transformer.grad_checkpointing = enabled

    def encode(self, images_B3HW: torch.Tensor) -> tuple[torch.Tensor, QuantizerOutput]:
        """(latent (B, h, w, d) before quantization, quantizer output); the quantizer runs in fp32."""
        check_image_batch(images_B3HW, self.config.patch_size)
        latent_BhwD = self.encoder(images_B3HW * 2.0 - 1.0)
        with torch.autocast(latent_BhwD.device.type, enabled=False):
            latent_BhwD = latent_BhwD.float()
            if self.config.latent_norm == "l2":
                latent_BhwD = normalize_rows(latent_BhwD)
            return latent_BhwD, self.quantizer(latent_BhwD)

    def decode(self, codes_BhwD: torch.Tensor) -> torch.Tensor:
        """Reconstruction in [0, 1] scale (not clamped) from codes (B, h, w, d)."""
        return (self.decoder(codes_BhwD) + 1.0) * 0.5

    @property
    def multiscale(self) -> bool:
        return bool(self.config.scales)

    def decode_indices(self, indices_Bhw: torch.Tensor) -> torch.Tensor:
        """Reconstruction from token indices (B, h, w) of a single-scale tokenizer."""
        if self.multiscale:
            raise ValueError("a multi-scale tokenizer decodes a list of index maps: use decode_from_scales")
        return self.decode(self.quantizer.indices_to_codes(indices_Bhw))

    @torch.no_grad()
    def encode_to_scales(self, images_B3HW: torch.Tensor) -> list[torch.Tensor]:
        """Token index maps, one (B, h_k, w_k) int64 map per scale (a single map for a single-scale tokenizer)."""
        indices = self.encode(images_B3HW)[1].indices
        return list(indices) if self.multiscale else [indices]

    def decode_from_scales(self, indices: list[torch.Tensor]) -> torch.Tensor:
        """Reconstruction from `encode_to_scales`' index maps; equals forward()'s reconstruction of the same images."""
        if not isinstance(indices, (list, tuple)) or not all(isinstance(item, torch.Tensor) for item in indices):
            raise TypeError("indices must be a list of (B, h_k, w_k) integer tensors, one per scale")
        if not self.multiscale:
            if len(indices) != 1:
                raise ValueError(f"a single-scale tokenizer takes one index map, got {len(indices)}")
            return self.decode_indices(indices[0])
        return self.decode(self.quantizer.indices_to_codes(list(indices)))

    def forward(self, images_B3HW: torch.Tensor) -> TokenizerOutput:
        latent_BhwD, quantized = self.encode(images_B3HW)
        return TokenizerOutput(self.decode(quantized.quantized), latent_BhwD, quantized)
