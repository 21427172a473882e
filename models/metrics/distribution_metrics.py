"""Set-level metrics of generated (or reconstructed) images against reference images.

FD-VGG16-pool5 (always available offline), and with a user Inception weights file FID, precision/
recall on Inception pool3 and the Inception Score. A metric the accumulated sets cannot support
(too few samples, no reference images) is None, with a warning that says why.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from models.metrics.frechet import frechet_distance
from models.metrics.image_checks import check_images
from models.metrics.inception import load_fid_inception
from models.metrics.inception_score import inception_score
from models.metrics.precision_recall import precision_recall
from models.metrics.vgg_features import VGG16_POOL5_STRIDE, VGG16Pool5, pool5_vectors

SIDES = ("reference", "generated")


def _or_none(what: str, compute: Callable[[], object]) -> object | None:
    try:
        return compute()
    except ValueError as error:
        warnings.warn(f"{what} is null: {error}", stacklevel=3)
        return None


class DistributionMetrics:
    """Accumulate features batch by batch with `update`, then `compute()` -> dict of floats/None.

    Keys: fd_vgg16_pool5 (Fréchet distance of the 512-d VGG16 pool5 vectors at every spatial
    position), precision_vgg16 / recall_vgg16 (k-NN, on per-image means of pool5); with
    `inception_weights`: fid, precision_inception / recall_inception (pool3), inception_score and
    inception_score_std (of the generated images).
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        vgg16: bool = True,
        inception_weights: str | Path | None = None,
        k: int = 3,
        inception_score_splits: int = 10,
    ) -> None:
        self.device = torch.device(device)
        self.k = k
        self.inception_score_splits = inception_score_splits
        self.vgg = VGG16Pool5().to(self.device) if vgg16 else None
        self.inception = load_fid_inception(inception_weights, self.device) if inception_weights else None
        self.reset()

    def reset(self) -> None:
        self._features: dict[str, dict[str, list[torch.Tensor]]] = {}

    def _append(self, kind: str, side: str, features: torch.Tensor) -> None:
        self._features.setdefault(kind, {name: [] for name in SIDES})[side].append(features.float().cpu())

    def _collected(self, kind: str, side: str) -> torch.Tensor:
        parts = self._features.get(kind, {}).get(side, [])
        if not parts:
            raise ValueError(f"no {side} images were given")
        return torch.cat(parts)

    def update(
        self, reference_BCHW: torch.Tensor | None = None, generated_BCHW: torch.Tensor | None = None
    ) -> None:
        """Add a batch of reference and/or generated images (float, [0, 1], (B, 3, H, W))."""
        for side, images in zip(SIDES, (reference_BCHW, generated_BCHW)):
            if images is None:
                continue
            check_images(images, f"{side} images")
            images = images.to(self.device)
            if self.vgg is not None and min(images.shape[-2:]) < VGG16_POOL5_STRIDE:
                warnings.warn(
                    f"{side} images of size {tuple(images.shape[-2:])} are below {VGG16_POOL5_STRIDE} px: "
                    "left out of the VGG16 features", stacklevel=2,
                )
            elif self.vgg is not None:
                with torch.no_grad():
                    pool5 = self.vgg(images)
                self._append("vgg_spatial", side, pool5_vectors(pool5, "spatial"))
                self._append("vgg_global", side, pool5_vectors(pool5, "global"))
            if self.inception is not None:
                with torch.no_grad():
                    outputs = self.inception(images)
                self._append("inception_pool3", side, outputs.pool3)
                self._append("inception_logits", side, outputs.logits_unbiased)

    def _pair(self, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
        return self._collected(kind, "reference"), self._collected(kind, "generated")

    def _set_metrics(self, fd_kind: str, rates_kind: str, suffix: str, fd_key: str, fd_name: str) -> dict:
        rates = _or_none(
            f"precision/recall ({suffix})",
            lambda: precision_recall(*self._pair(rates_kind), k=self.k, device=self.device),
        )
        return {
            fd_key: _or_none(fd_name, lambda: frechet_distance(*self._pair(fd_kind))),
            f"precision_{suffix}": rates["precision"] if rates else None,
            f"recall_{suffix}": rates["recall"] if rates else None,
        }

    def compute(self) -> dict[str, float | None]:
        results: dict[str, float | None] = {}
        if self.vgg is not None:
            results.update(
                self._set_metrics("vgg_spatial", "vgg_global", "vgg16", "fd_vgg16_pool5", "FD-VGG16-pool5")
            )
        if self.inception is not None:
            results.update(self._set_metrics("inception_pool3", "inception_pool3", "inception", "fid", "FID"))
            score = _or_none(
                "Inception Score",
                lambda: inception_score(
                    self._collected("inception_logits", "generated"), self.inception_score_splits
                ),
            )
            results["inception_score"], results["inception_score_std"] = score if score else (None, None)
        return results
