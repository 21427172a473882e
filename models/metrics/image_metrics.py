"""Paired reconstruction metrics accumulated over batches: PSNR, SSIM, MS-SSIM, LPIPS, FD-VGG16, rFID."""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from models.metrics.distribution_metrics import DistributionMetrics
from models.metrics.image_checks import check_image_pair
from models.metrics.lpips_metric import LpipsDistance
from models.metrics.psnr import psnr
from models.metrics.ssim import ms_ssim, ssim

# Set-level keys of DistributionMetrics renamed for reconstructions (reference vs reconstruction).
_RECONSTRUCTION_KEYS = {"fid": "rfid"}


class ImageMetrics:
    """`update(recon_BCHW, ref_BCHW)` per batch of images in [0, 1], then `compute()` -> dict.

    The dict holds the mean of every per-image metric (psnr, ssim, ms_ssim, lpips_<net>), the
    set-level metrics of DistributionMetrics (fd_vgg16_pool5, precision_vgg16, recall_vgg16 unless
    fd_vgg16=False; rfid, precision_inception, ... with `inception_weights`), num_images, and
    per_image: a list of dicts with the image name, size and its metrics. A per-image metric that
    does not apply to an image (e.g. MS-SSIM under 161 px) is None for it, with a warning, and its
    mean is None unless it applies to every image.
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        lpips_nets: Sequence[str] = ("alex", "vgg"),
        fd_vgg16: bool = True,
        inception_weights: str | Path | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.lpips = {net: LpipsDistance(net).to(self.device) for net in lpips_nets}
        self.distribution = (
            DistributionMetrics(self.device, vgg16=fd_vgg16, inception_weights=inception_weights)
            if fd_vgg16 or inception_weights else None
        )
        self.per_image: list[dict] = []

    def reset(self) -> None:
        self.per_image = []
        if self.distribution is not None:
            self.distribution.reset()

    def _per_image_metrics(self) -> dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
        metrics = {"psnr": psnr, "ssim": ssim, "ms_ssim": ms_ssim}
        metrics.update({f"lpips_{net}": model for net, model in self.lpips.items()})
        return metrics

    def update(self, recon_BCHW: torch.Tensor, ref_BCHW: torch.Tensor, names: Sequence[str] | None = None) -> None:
        check_image_pair(recon_BCHW, ref_BCHW)
        batch, _, height, width = recon_BCHW.shape
        if names is None:
            names = [f"image{len(self.per_image) + position}" for position in range(batch)]
        if len(names) != batch:
            raise ValueError(f"got {len(names)} names for a batch of {batch} images")
        recon, ref = recon_BCHW.to(self.device), ref_BCHW.to(self.device)
        rows = [{"name": name, "height": height, "width": width} for name in names]
        for key, metric in self._per_image_metrics().items():
            try:
                with torch.no_grad():
                    values = metric(recon, ref).double().cpu().tolist()
            except ValueError as error:
                warnings.warn(f"{key} is null for {', '.join(names)}: {error}", stacklevel=2)
                values = [None] * batch
            for row, value in zip(rows, values):
                row[key] = value
        self.per_image.extend(rows)
        if self.distribution is not None:
            self.distribution.update(reference_BCHW=ref, generated_BCHW=recon)

    def compute(self) -> dict:
        if not self.per_image:
            raise ValueError("no images were given to ImageMetrics.update")
        results: dict = {"num_images": len(self.per_image)}
        for key in self._per_image_metrics():
            values = [row[key] for row in self.per_image]
            results[key] = None if None in values else math.fsum(values) / len(values)
        if self.distribution is not None:
            for key, value in self.distribution.compute().items():
                results[_RECONSTRUCTION_KEYS.get(key, key)] = value
        results["per_image"] = [dict(row) for row in self.per_image]
        return results
