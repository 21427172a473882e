"""Reconstruction metrics of a tokenizer over image batches: `ImageMetrics` plus bits per pixel and codebook usage."""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch

from models.metrics.bitrate import bits_per_pixel_entropy, bits_per_pixel_fixed
from models.metrics.image_metrics import ImageMetrics
from models.tokenizer import Tokenizer
from quantizers.usage import CodebookUsage


@dataclass
class TokenizerEvaluation:
    """Means and set metrics (`summary`), one row per image, the warnings raised, and a few image pairs."""

    summary: dict[str, float | None]
    per_image: list[dict]
    warnings: list[str]
    pairs: list[tuple[torch.Tensor, torch.Tensor]]


class ReconstructionMetrics:
    """Metric networks built once on one device (LPIPS per net, VGG16 for FD-VGG16), reused by `evaluate`."""

    def __init__(self, device: torch.device, lpips_nets: Sequence[str] = ("alex", "vgg"), frechet: bool = True) -> None:
        self.device = device
        self.image_metrics = ImageMetrics(device, tuple(lpips_nets), fd_vgg16=frechet)

    @torch.no_grad()
    def evaluate(self, tokenizer: Tokenizer, batches: Iterable[torch.Tensor], names: Sequence[str] | None = None,
                 keep_pairs: int = 0, autocast_dtype: torch.dtype | None = None,
                 image_sink: Callable[[torch.Tensor, torch.Tensor, Sequence[str]], None] | None = None,
                 ) -> TokenizerEvaluation:
        """Tokenize and reconstruct (B, 3, H, W) batches in [0, 1]; reconstructions are clamped to [0, 1].

        `image_sink(recon, reference, names)`, when given, receives every batch (e.g. to save the images).

        summary: psnr, ssim, ms_ssim, lpips_<net>, fd_vgg16_pool5 (+ VGG16 precision/recall), num_images,
        bpp_fixed, bpp_entropy (empirical entropy of all indices), codebook_used_fraction,
        codebook_perplexity, codebook_max_min_ratio and tokens. A metric the images cannot support is None.
        """
        self.image_metrics.reset()
        usage = CodebookUsage(tokenizer.quantizer.codebook_size, self.device)
        indices: list[torch.Tensor] = []
        pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
        pixels = 0
        was_training = tokenizer.training
        tokenizer.eval()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for images in batches:
                images = images.to(self.device, non_blocking=True)
                with torch.autocast(self.device.type, dtype=autocast_dtype or torch.float32,
                                    enabled=autocast_dtype is not None):
                    output = tokenizer(images)
                recon = output.reconstruction.float().clamp(0.0, 1.0)
                done = len(self.image_metrics.per_image)
                batch_names = names[done:done + len(images)] if names else None
                self.image_metrics.update(recon, images, batch_names)
                if image_sink is not None:
                    image_sink(recon, images, batch_names or [f"{done + k:05d}" for k in range(len(images))])
                index_maps = output.quantizer.indices if tokenizer.multiscale else [output.quantizer.indices]
                batch_indices = torch.cat([index_map.reshape(-1) for index_map in index_maps])
                usage.update(batch_indices)
                indices.append(batch_indices.cpu())
                pixels += images.shape[0] * images.shape[2] * images.shape[3]
                wanted = keep_pairs - len(pairs)
                pairs += [(ref.cpu(), rec.cpu()) for ref, rec in zip(images[:wanted], recon[:wanted], strict=True)]
            tokenizer.train(was_training)
            results = self.image_metrics.compute()
        per_image = results.pop("per_image")
        all_indices = torch.cat(indices)
        codebook_size = tokenizer.quantizer.codebook_size
        stats = usage.compute()
        results |= {
            "bpp_fixed": bits_per_pixel_fixed(codebook_size, all_indices.numel(), pixels),
            "bpp_entropy": bits_per_pixel_entropy(all_indices, pixels, codebook_size),
            "codebook_used_fraction": stats["used_fraction"],
            "codebook_perplexity": stats["perplexity"],
            "codebook_max_min_ratio": stats["max_min_ratio"],
            "tokens": all_indices.numel(),
        }
        messages = list(dict.fromkeys(str(warning.message) for warning in caught))
        return TokenizerEvaluation(results, per_image, messages, pairs)
