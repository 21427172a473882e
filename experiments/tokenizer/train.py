"""`slq train-tokenizer`: how a tokenizer is trained, top to bottom (ViT autoencoder, any quantizer, L1 + LPIPS + GAN).

Reads a YAML config; builds the data (seeded random crops from images decoded once, one global
stream sharded over ranks), the tokenizer with its losses and optimizers; and hands the step to
the shared training core (experiments/training/trainer.py), which owns the loop, bf16, EMA,
logging, periodic evaluation, checkpoints and exact resume. For several GPUs:
`torchrun --nproc-per-node N -m experiments.cli train-tokenizer --config ...`.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, Dataset

from experiments.tokenizer.config import RESUMABLE_CHANGES, TokenizerRunConfig, config_to_yaml, load_config
from experiments.training.checkpoints import load_checkpoint_config, resume_checkpoint
from experiments.training.config_io import check_resume_compatible, to_mapping
from experiments.training.distributed import DistributedContext, init_distributed, shutdown_distributed
from experiments.training.ema import ModelEma
from experiments.training.run_dir import RunDirectoryLock, check_run_dir, record_run
from experiments.training.schedule import WarmupCosine
from experiments.training.trainer import Trainer, decay_groups
from models.data import FashionMNIST32, list_image_files
from models.data.sampler import ShardedBatchSampler, data_state
from models.data.training_crops import DecodedRandomCrops
from models.tokenizer import Tokenizer, TokenizerOutput
from models.tokenizer.discriminator import PatchDiscriminator
from models.tokenizer.losses import GeneratorLoss, discriminator_loss


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-tokenizer",
        help="train the ViT tokenizer (single device or torchrun multi-GPU)",
        description="Train the ViT autoencoder tokenizer with any quantizer. The config is a YAML file "
        "mapped onto nested dataclasses (see docs/tokenizer.md); --set overrides single keys. For several "
        "GPUs (a GPU machine) launch with `torchrun --nproc-per-node N -m experiments.cli train-tokenizer ...`.",
    )
    parser.add_argument("--config", required=True, help="YAML config file (e.g. configs/tiny-cpu.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key, e.g. --set train.steps=100 (repeatable; values are YAML)")
    parser.add_argument("--resume", metavar="PATH|auto",
                        help="continue from a checkpoint directory or run directory; 'auto' resumes the "
                        "newest complete checkpoint of train.run_dir if there is one, else starts fresh")
    parser.add_argument("--stop-at", type=int, metavar="STEP",
                        help="stop at this global step with a checkpoint (split a run over several jobs; "
                        "continue with --resume auto)")
    parser.set_defaults(func=run)


def tokenizer_identity(config: TokenizerRunConfig) -> dict[str, str]:
    """What a checkpoint of this run must match on resume: the task and the quantizer with its options."""
    model = config.model
    return {"task": "tokenizer", "quantizer": model.quantizer, "latent_dim": str(model.latent_dim),
            "scales": json.dumps(model.scales),
            "quantizer_kwargs": json.dumps(model.quantizer_kwargs, sort_keys=True)}


class TrainModule(nn.Module):
    """What DDP wraps: the tokenizer and, with the VF loss, the trainable latent -> DINOv2 width projection."""

    def __init__(self, tokenizer: Tokenizer, vf_projection: nn.Linear | None) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.vf_projection = vf_projection

    def forward(self, images: torch.Tensor) -> tuple[TokenizerOutput, torch.Tensor | None]:
        output = self.tokenizer(images)
        projected = self.vf_projection(output.latent) if self.vf_projection is not None else None
        return output, projected


class TokenizerTrainer(Trainer):
    """The tokenizer's modules, optimizers and one training step; the loop is the core's."""

    name = "train-tokenizer"

    def __init__(self, config: TokenizerRunConfig, context: DistributedContext, run_dir: Path,
                 dataset: Dataset) -> None:
        super().__init__(config.train, context, run_dir, config_to_yaml(config), tokenizer_identity(config))
        self.config, self.dataset = config, dataset
        device, optim, loss = context.device, config.optim, config.loss
        torch.manual_seed(config.train.seed)  # identical initial weights on every rank
        # the models: tokenizer, optional VF projection, discriminator and the loss networks
        self.tokenizer = Tokenizer(config.model).to(device)
        self.tokenizer.set_grad_checkpointing(config.train.grad_checkpointing)
        dino = self._dino() if loss.vf.weight > 0 else None
        vf_projection = nn.Linear(config.model.latent_dim, dino.feature_dim).to(device) if dino is not None else None
        self.train_module = TrainModule(self.tokenizer, vf_projection)
        self.discriminator = (PatchDiscriminator(loss.gan.channels, loss.gan.num_layers).to(device)
                              if loss.gan.weight > 0 else None)
        self.loss = GeneratorLoss(loss, self._lpips() if loss.lpips > 0 else None, self.discriminator, dino)
        # optimizers: AdamW with warm-up + cosine for the tokenizer, AdamW for the discriminator
        adamw = dict(betas=tuple(optim.betas), fused=device.type == "cuda")
        self.optimizer = torch.optim.AdamW(decay_groups(self.train_module, optim.weight_decay), lr=optim.lr, **adamw)
        self.optimizers["tokenizer"] = self.optimizer
        self.schedulers["tokenizer"] = LambdaLR(self.optimizer, WarmupCosine(optim.warmup_steps, config.train.steps,
                                                                             optim.min_lr_ratio))
        self.weights["model"] = self.tokenizer
        if vf_projection is not None:
            self.weights["vf_projection"] = vf_projection
        if self.discriminator is not None:
            self.weights["discriminator"] = self.discriminator
            self.optimizers["discriminator"] = torch.optim.AdamW(
                decay_groups(self.discriminator, optim.weight_decay), lr=optim.discriminator_lr, **adamw)
        self.ema = ModelEma(self.tokenizer, config.train.ema_decay)
        self.data_start = data_state(len(dataset), config.train.seed, config.data.batch_size, 0)

    def _lpips(self) -> nn.Module:
        from models.metrics.lpips_metric import LpipsDistance

        return LpipsDistance(self.config.loss.lpips_net).to(self.context.device)

    def _dino(self) -> nn.Module:
        from models.tokenizer.vf_loss import DinoFeatures

        vf = self.config.loss.vf
        image_size = vf.image_size or self.config.data.crop_size // self.config.model.patch_size * 14
        return DinoFeatures(vf.weights, image_size, vf.model_name).to(self.context.device)

    def wrap(self) -> None:
        """torch.compile and DDP around the trained modules (after any restore)."""
        self.model = self._wrapped(self.train_module)
        self.discriminator_model = self._wrapped(self.discriminator) if self.discriminator is not None else None

    def _wrapped(self, module: nn.Module) -> nn.Module:
        if self.config.train.compile:
            module = torch.compile(module)
        if self.context.enabled:
            device_ids = [self.context.device] if self.context.device.type == "cuda" else None
            # No buffer changes during training (no BatchNorm); syncing them each step would resend the codebooks.
            module = DistributedDataParallel(module, device_ids=device_ids, forward_sync_buffers=False,
                                             gradient_as_bucket_view=True)
        return module

    # data order in the checkpoint ---------------------------------------------------------------
    def extra_state(self, step: int) -> dict[str, Any]:
        return {"data": data_state(len(self.dataset), self.config.train.seed, self.config.data.batch_size, step),
                "num_images": len(self.dataset)}

    def load_extra_state(self, state: dict[str, Any], checkpoint: Path) -> None:
        if state.get("num_images") != len(self.dataset):
            raise ValueError(f"checkpoint {checkpoint} was trained on {state.get('num_images')} images but "
                             f"data.train_dir holds {len(self.dataset)}: the data order would not continue")
        self.data_start = {key: int(value) for key, value in state["data"].items()}

    # one step ------------------------------------------------------------------------------------
    def train_step(self, step: int, images: torch.Tensor) -> dict[str, torch.Tensor]:
        images = images.to(self.context.device, non_blocking=True)
        self.model.train()
        # the tokenizer: reconstruction, perceptual, quantizer, GAN and VF losses
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast:
            output, projected = self.model(images)
            loss, logs = self.loss(images, output, projected, step, self.tokenizer.decoder.last_layer_weight,
                                   self.tokenizer.encoder.to_latent.weight)
        loss.backward()
        clip = self.config.optim.grad_clip
        parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
        logs["grad_norm"] = torch.nn.utils.clip_grad_norm_(parameters, clip if clip > 0 else math.inf).detach()
        logs["lr"] = torch.tensor(self.schedulers["tokenizer"].get_last_lr()[0], dtype=torch.float64)
        self.optimizer.step()
        self.schedulers["tokenizer"].step()
        self.ema.update(self.tokenizer)
        logs |= {f"q_{name}": value.detach().float() for name, value in output.quantizer.stats.items()}
        # the discriminator, once the GAN is on
        if self.discriminator is not None:
            logs |= self._discriminator_step(step, images, output)
        return logs

    def _discriminator_step(self, step: int, images: torch.Tensor, output: TokenizerOutput) -> dict[str, torch.Tensor]:
        if not self.loss.gan_active(step):
            zero = torch.zeros((), device=images.device)
            return {"gan_discriminator": zero, "logits_real": zero, "logits_fake": zero}
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        with self.autocast:
            loss, logs = discriminator_loss(self.discriminator_model, images, output.reconstruction)
        loss.backward()
        optimizer.step()
        return logs

    def throughput(self, steps: int, elapsed: float) -> dict[str, float]:
        return {"images_per_s": self.config.data.batch_size * steps / elapsed}

    def progress_fields(self, means: dict[str, float]) -> dict[str, str]:
        return {"img_s": f"{means['images_per_s']:.0f}"}

    def batches(self, end_step: int) -> DataLoader:
        """The training batches of this rank from start_step to end_step (the data order continues on resume)."""
        context, data = self.context, self.config.data
        sampler = ShardedBatchSampler(len(self.dataset), data.batch_size, context.rank, context.world_size,
                                      self.data_start, self.start_step, end_step)
        return DataLoader(self.dataset, batch_sampler=sampler, num_workers=data.num_workers,
                          pin_memory=context.device.type == "cuda", prefetch_factor=4 if data.num_workers else None)


def prepare(args: argparse.Namespace) -> tuple[TokenizerRunConfig, Path, Path | None, Dataset]:
    """Every check that needs no accelerator: config, resume compatibility, training/eval images, VF weights."""
    if args.stop_at is not None and args.stop_at < 1:
        raise ValueError(f"--stop-at must be a positive step, got {args.stop_at}")
    config = load_config(args.config, args.overrides)
    run_dir = check_run_dir(Path(config.train.run_dir))
    resume = resume_checkpoint(args.resume, run_dir)
    if resume is not None:
        check_resume_compatible(load_checkpoint_config(resume), to_mapping(config), resume, RESUMABLE_CHANGES)
    if config.loss.vf.weight > 0 and not Path(config.loss.vf.weights).is_file():
        raise FileNotFoundError(f"loss.vf.weights: DINOv2 weights file {config.loss.vf.weights} does not exist")
    if config.eval.data_dir:
        list_image_files(config.eval.data_dir)
    dataset = training_images(config)
    return config, run_dir, resume, dataset


def training_images(config: TokenizerRunConfig) -> Dataset:
    """The training set, indexed by the sampler's keys: seeded crops of an image folder, or Fashion-MNIST at 32 px."""
    if config.data.dataset == "fashion-mnist":
        return FashionMNIST32(config.data.train_dir, "train")
    return DecodedRandomCrops(config.data.train_dir, config.data.crop_size, config.train.seed)


def run(args: argparse.Namespace) -> int:
    from experiments.tokenizer.eval_during_training import PeriodicEvaluation

    config, run_dir, resume, dataset = prepare(args)
    context = init_distributed(config.train.device)
    try:
        if config.data.batch_size % context.world_size:
            raise ValueError(f"data.batch_size {config.data.batch_size} is not divisible by the "
                             f"{context.world_size} ranks")
        with RunDirectoryLock(run_dir) if context.is_main else nullcontext():
            if context.is_main:
                record_run(run_dir, config_to_yaml(config), context.world_size, resume)
                print(f"train-tokenizer: {len(dataset)} training images, {config.train.steps} steps, run directory "
                      f"{run_dir}" + (f", resuming from {resume}" if resume else ""), file=sys.stderr)
            trainer = TokenizerTrainer(config, context, run_dir, dataset)
            if resume is not None:
                trainer.restore(resume)
            trainer.wrap()
            end_step = config.train.steps if args.stop_at is None else min(args.stop_at, config.train.steps)
            evaluate = PeriodicEvaluation(config, context.device) if config.eval.data_dir else None
            trainer.fit(trainer.batches(end_step), end_step, evaluate, config.eval.every)
    finally:
        shutdown_distributed(context)
    return 0
