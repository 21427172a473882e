"""Bits per pixel of token maps: fixed-length codes and the empirical entropy of the indices."""
from __future__ import annotations

import math

import torch


def _check_counts(tokens: int, pixels: int) -> None:
    if tokens <= 0 or pixels <= 0:
        raise ValueError(f"tokens and pixels must be positive, got tokens={tokens}, pixels={pixels}")


def bits_per_pixel_fixed(codebook_size: int, tokens: int, pixels: int) -> float:
    """tokens * log2(codebook_size) / pixels: each token stored as a fixed-length index (0 for one code,
    e.g. the `identity` quantizer of a continuous tokenizer, whose tokens carry nothing)."""
    if int(codebook_size) != codebook_size or codebook_size < 1:
        raise ValueError(f"codebook_size must be a positive integer, got {codebook_size}")
    _check_counts(tokens, pixels)
    return tokens * math.log2(int(codebook_size)) / pixels


def empirical_entropy_bits(indices: torch.Tensor, codebook_size: int | None = None) -> float:
    """Entropy in bits per token of the histogram of `indices` (any shape, integer)."""
    if not isinstance(indices, torch.Tensor):
        raise TypeError(f"indices must be a torch.Tensor, got {type(indices).__name__}")
    if indices.is_floating_point() or indices.is_complex() or indices.dtype == torch.bool:
        raise TypeError(f"indices must be an integer tensor, got dtype {indices.dtype}")
    if indices.numel() == 0:
        raise ValueError("indices is empty")
    flat = indices.reshape(-1)
    if flat.min().item() < 0 or (codebook_size is not None and flat.max().item() >= codebook_size):
        raise ValueError(
            f"indices must lie in [0, {codebook_size if codebook_size is not None else 'inf'}), "
            f"got range [{flat.min().item()}, {flat.max().item()}]"
        )
    _, counts = torch.unique(flat, return_counts=True)
    probabilities = counts.double() / flat.numel()
    return abs(float((probabilities * probabilities.log2()).sum()))  # abs: one symbol gives 0.0, not -0.0


def bits_per_pixel_entropy(indices: torch.Tensor, pixels: int, codebook_size: int | None = None) -> float:
    """numel(indices) * entropy(indices) / pixels: the rate of an ideal code for the index histogram.

    `indices` are all token maps of the evaluated images and `pixels` the pixel count of those images
    (e.g. B*H*W). The histogram is fitted on the same indices, so this is an optimistic estimate.
    """
    entropy = empirical_entropy_bits(indices, codebook_size)
    _check_counts(indices.numel(), pixels)
    return indices.numel() * entropy / pixels
