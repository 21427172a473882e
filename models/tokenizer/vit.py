"""ViT encoder and decoder over square patches, with 2-D positional embeddings that follow any grid size."""
from __future__ import annotations

import torch
from timm.layers import resample_abs_pos_embed
from timm.models.vision_transformer import Block
from torch import nn
from torch.utils.checkpoint import checkpoint

POSITIONAL_EMBEDDINGS = ("sincos", "learned")


def sincos_2d_embedding(
    grid_hw: tuple[int, int], reference_hw: tuple[int, int], dim: int, temperature: float = 10000.0
) -> torch.Tensor:
    """(h·w, dim) sin-cos embedding of a row-major h×w grid, with coordinates scaled to the reference grid.

    Row i sits at i·(ref_h / h) and column j at j·(ref_w / w): on the reference grid these are the
    integer positions of the usual MAE/ViT embedding, and any other grid interpolates that range
    instead of extrapolating beyond it. Channels: [sin(y·ω), cos(y·ω), sin(x·ω), cos(x·ω)], dim/4 each.
    """
    if dim % 4:
        raise ValueError(f"sin-cos 2-D positional embedding needs a width divisible by 4, got {dim}")
    quarter = dim // 4
    omega_Q = temperature ** (-torch.arange(quarter, dtype=torch.float64) / quarter)
    rows_h = torch.arange(grid_hw[0], dtype=torch.float64) * (reference_hw[0] / grid_hw[0])
    cols_w = torch.arange(grid_hw[1], dtype=torch.float64) * (reference_hw[1] / grid_hw[1])
    y_hQ = rows_h[:, None] * omega_Q
    x_wQ = cols_w[:, None] * omega_Q
    y_hwQ = y_hQ[:, None, :].expand(-1, grid_hw[1], -1)
    x_hwQ = x_wQ[None, :, :].expand(grid_hw[0], -1, -1)
    embedding = torch.cat([y_hwQ.sin(), y_hwQ.cos(), x_hwQ.sin(), x_hwQ.cos()], dim=-1)
    return embedding.reshape(grid_hw[0] * grid_hw[1], dim).float()


class PositionalEmbedding(nn.Module):
    """Adds a positional embedding for any token grid: fixed sin-cos, or a learned table resampled bicubically."""

    def __init__(self, kind: str, width: int, reference_grid: int) -> None:
        super().__init__()
        if kind not in POSITIONAL_EMBEDDINGS:
            raise ValueError(f"unknown positional embedding {kind!r}; expected one of {POSITIONAL_EMBEDDINGS}")
        self.kind = kind
        self.width = width
        self.reference_hw = (reference_grid, reference_grid)
        if kind == "learned":
            self.table_1ND = nn.Parameter(torch.randn(1, reference_grid * reference_grid, width) * 0.02)
        self._sincos_cache: dict[tuple[tuple[int, int], torch.device], torch.Tensor] = {}

    def embedding(self, grid_hw: tuple[int, int], device: torch.device) -> torch.Tensor:
        """(1, h·w, width) embedding for an h×w grid (float32 for sin-cos, the table's dtype if learned)."""
        if self.kind == "learned":
            if grid_hw == self.reference_hw:
                return self.table_1ND
            return resample_abs_pos_embed(
                self.table_1ND, new_size=list(grid_hw), old_size=list(self.reference_hw), num_prefix_tokens=0
            )
        key = (grid_hw, device)
        if key not in self._sincos_cache:
            self._sincos_cache[key] = sincos_2d_embedding(grid_hw, self.reference_hw, self.width)[None].to(device)
        return self._sincos_cache[key]

    def forward(self, tokens_BND: torch.Tensor, grid_hw: tuple[int, int]) -> torch.Tensor:
        return tokens_BND + self.embedding(grid_hw, tokens_BND.device).to(tokens_BND.dtype)


class TransformerStack(nn.Module):
    """`depth` timm ViT blocks and a final LayerNorm, with optional activation checkpointing per block."""

    def __init__(self, width: int, depth: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        if width % num_heads:
            raise ValueError(f"width {width} is not divisible by the number of heads {num_heads}")
        self.blocks = nn.ModuleList(
            [Block(width, num_heads, mlp_ratio=mlp_ratio, qkv_bias=True) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(width)
        self.grad_checkpointing = False

    def forward(self, tokens_BND: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            if self.grad_checkpointing and torch.is_grad_enabled():
                tokens_BND = checkpoint(block, tokens_BND, use_reentrant=False)
            else:
                tokens_BND = block(tokens_BND)
        return self.norm(tokens_BND)


def check_image_batch(images: torch.Tensor, patch_size: int) -> None:
    """TypeError/ValueError unless `images` is a float (B, 3, H, W) tensor with H, W multiples of the patch."""
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError(f"images must be a float tensor, got {getattr(images, 'dtype', type(images).__name__)}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (B, 3, H, W), got {tuple(images.shape)}")
    if images.shape[2] % patch_size or images.shape[3] % patch_size:
        raise ValueError(
            f"image size {tuple(images.shape[2:])} is not divisible by the patch size {patch_size}"
        )


class ViTEncoder(nn.Module):
    """(B, 3, H, W) images -> (B, H/p, W/p, latent_dim) latents: patchify, transformer, project width -> latent."""

    def __init__(
        self, *, width: int, depth: int, num_heads: int, mlp_ratio: float, patch_size: int,
        latent_dim: int, pos_embed: str, reference_size: int,
    ) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.patch_embed = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size)
        self.pos_embed = PositionalEmbedding(pos_embed, width, reference_size // patch_size)
        self.transformer = TransformerStack(width, depth, num_heads, mlp_ratio)
        self.to_latent = nn.Linear(width, latent_dim)

    def forward(self, images_B3HW: torch.Tensor) -> torch.Tensor:
        check_image_batch(images_B3HW, self.patch_size)
        tokens_BDhw = self.patch_embed(images_B3HW)
        batch, _, grid_h, grid_w = tokens_BDhw.shape
        tokens_BND = self.pos_embed(tokens_BDhw.flatten(2).transpose(1, 2), (grid_h, grid_w))
        latent_BNL = self.to_latent(self.transformer(tokens_BND))
        return latent_BNL.reshape(batch, grid_h, grid_w, -1)


class ViTDecoder(nn.Module):
    """(B, h, w, latent_dim) codes -> (B, 3, h·p, w·p) images: project latent -> width, transformer, unpatchify."""

    def __init__(
        self, *, width: int, depth: int, num_heads: int, mlp_ratio: float, patch_size: int,
        latent_dim: int, pos_embed: str, reference_size: int,
    ) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.from_latent = nn.Linear(latent_dim, width)
        self.pos_embed = PositionalEmbedding(pos_embed, width, reference_size // patch_size)
        self.transformer = TransformerStack(width, depth, num_heads, mlp_ratio)
        self.to_pixels = nn.Linear(width, 3 * patch_size * patch_size)

    @property
    def last_layer_weight(self) -> nn.Parameter:
        """Weight of the output projection, where VQGAN's adaptive GAN weight compares gradient norms."""
        return self.to_pixels.weight

    def forward(self, codes_BhwL: torch.Tensor) -> torch.Tensor:
        if codes_BhwL.ndim != 4:
            raise ValueError(f"decoder input must have shape (B, h, w, latent_dim), got {tuple(codes_BhwL.shape)}")
        batch, grid_h, grid_w, _ = codes_BhwL.shape
        tokens_BND = self.from_latent(codes_BhwL.reshape(batch, grid_h * grid_w, -1))
        tokens_BND = self.transformer(self.pos_embed(tokens_BND, (grid_h, grid_w)))
        patches_BNP = self.to_pixels(tokens_BND)
        p = self.patch_size
        patches = patches_BNP.reshape(batch, grid_h, grid_w, 3, p, p)
        return patches.permute(0, 3, 1, 4, 2, 5).reshape(batch, 3, grid_h * p, grid_w * p)
