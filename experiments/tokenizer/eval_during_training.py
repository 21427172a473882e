"""Evaluation of the EMA tokenizer during training (rank 0), on center crops of an image folder, logged to eval.csv."""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from experiments.training.distributed import barrier
from experiments.training.trainer import Trainer
from experiments.tokenizer.config import TokenizerRunConfig
from experiments.tokenizer.reconstruction_metrics import ReconstructionMetrics
from models.data import ImageFolderDataset, list_image_files


class PeriodicEvaluation:
    """`evaluate(trainer, step)`: PSNR/SSIM/MS-SSIM/LPIPS[/FD-VGG16]/rate/usage of the EMA weights on eval.data_dir.

    The first eval.max_images files (sorted) are center-cropped to eval.crop; the metric networks are
    built on first use, on rank 0 only, while the other ranks wait at a barrier.
    """

    def __init__(self, config: TokenizerRunConfig, device: torch.device) -> None:
        files = list_image_files(config.eval.data_dir)[:config.eval.max_images]
        self.dataset = ImageFolderDataset(config.eval.data_dir, train=False, crop_size=config.eval.crop, files=files)
        self.batch_size = config.eval.batch_size
        self.autocast_dtype = torch.bfloat16 if config.train.precision == "bf16" else None
        self.device = device
        self.lpips_nets = tuple(config.eval.lpips_nets)
        self.frechet = config.eval.frechet
        self.metrics: ReconstructionMetrics | None = None

    def __call__(self, trainer: Trainer, step: int) -> dict[str, float | None] | None:
        """The metrics of the EMA tokenizer on rank 0 (None on the other ranks), after which all ranks meet."""
        summary = None
        if trainer.context.is_main:
            if self.metrics is None:
                self.metrics = ReconstructionMetrics(self.device, self.lpips_nets, self.frechet)
            batches = DataLoader(self.dataset, batch_size=self.batch_size)
            summary = self.metrics.evaluate(trainer.ema.module, batches, autocast_dtype=self.autocast_dtype).summary
        barrier(trainer.context)
        return summary
