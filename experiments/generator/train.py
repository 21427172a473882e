"""`slq train-generator`: how the class-conditional next-scale generator is trained, top to bottom.

Tokens come from a `slq tokenize` cache (the tokenizer never runs in a step); the tokenizer's
multi-scale quantizer only builds the teacher-forcing inputs (VAR, Tian et al. 2024, arXiv
2404.02905: the accumulated upsampled codes of scales < k, area-downsampled to scale k). The
transformer's head is the 196,560-way softmax with a fused cross-entropy and Z-loss, the factorized
24×9 Λ24 head or BSQ's per-bit head; Muon for the blocks' matrices, AdamW for the rest. The loop,
bf16, EMA, logging, checkpoints and resume are the shared core's (experiments/training/trainer.py).
For several GPUs: `torchrun --nproc-per-node N -m experiments.cli train-generator --config ...`.
"""
from __future__ import annotations

import argparse
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

from experiments.generator.config import (HEAD_QUANTIZERS, RESUMABLE_CHANGES, GeneratorRunConfig, config_to_yaml,
                                          load_config)
from experiments.generator.token_cache import TokenCache, read_token_cache, tokenizer_identity
from experiments.tokenizer.evaluate import load_tokenizer
from experiments.training.checkpoints import load_checkpoint_config, resolve_checkpoint, resume_checkpoint
from experiments.training.config_io import check_resume_compatible, to_mapping
from experiments.training.distributed import DistributedContext, init_distributed, shutdown_distributed
from experiments.training.ema import ModelEma
from experiments.training.run_dir import RunDirectoryLock, check_run_dir, record_run
from experiments.training.schedule import WarmupCosine
from experiments.training.trainer import Trainer
from models.data.sampler import ShardedBatchSampler, data_state
from models.generator import (GeneratorConfig, NextScaleTransformer, build_head, build_optimizers, flatten_scales,
                              teacher_forcing_inputs)
from quantizers import MultiScaleResidualQuantizer


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-generator",
        help="train the class-conditional next-scale generator on a token cache",
        description="Train a VAR-style next-scale transformer on the tokens of a `slq tokenize` cache. The config is "
        "YAML (see docs/generator.md, configs/fmnist-generator-*.yaml); --set overrides single keys. For several "
        "GPUs (a GPU machine): `torchrun --nproc-per-node N -m experiments.cli train-generator ...`.",
    )
    parser.add_argument("--config", required=True, help="YAML config file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key, e.g. --set train.steps=100 (repeatable; values are YAML)")
    parser.add_argument("--resume", metavar="PATH|auto",
                        help="continue from a checkpoint or run directory; 'auto': the newest complete checkpoint "
                        "of train.run_dir if there is one, else start fresh")
    parser.add_argument("--stop-at", type=int, metavar="STEP", help="stop at this step with a checkpoint")
    parser.set_defaults(func=run)


def build_generator(config: GeneratorRunConfig, quantizer: MultiScaleResidualQuantizer) -> NextScaleTransformer:
    """The transformer and head for `quantizer`'s scales and vocabulary (weights from the global torch seed)."""
    model = config.model
    shape = GeneratorConfig(num_classes=config.data.num_classes, scales=tuple(side for side, _ in quantizer.sizes),
                            code_dim=quantizer.dim, width=model.width, depth=model.depth, heads=model.heads,
                            mlp_ratio=model.mlp_ratio, class_dropout=model.class_dropout)
    return NextScaleTransformer(shape, build_head(model.head, model.width, quantizer,
                                                  z_loss_weight=model.z_loss_weight))


def load_tokenizer_quantizer(config: GeneratorRunConfig) -> tuple[MultiScaleResidualQuantizer, str]:
    """The multi-scale quantizer (with its φ) of data.tokenizer, and that checkpoint's identity."""
    checkpoint = resolve_checkpoint(config.data.tokenizer)
    tokenizer = load_tokenizer(checkpoint, "ema")
    if not tokenizer.multiscale:
        raise ValueError(f"data.tokenizer {checkpoint} has no model.scales: the generator needs a multi-scale tokenizer")
    allowed = HEAD_QUANTIZERS[config.model.head]
    if allowed is not None and tokenizer.config.quantizer not in allowed:
        raise ValueError(f"model.head {config.model.head} reads {' or '.join(allowed)} tokens, but data.tokenizer "
                         f"quantizes with {tokenizer.config.quantizer}")
    return tokenizer.quantizer.requires_grad_(False), tokenizer_identity(checkpoint)


class SampleIndices(Dataset):
    """The data set of a token cache as far as the sampler is concerned: key -> row index."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key) -> int:
        return key.index


class LossModule(nn.Module):
    """What DDP wraps: the transformer's loss on (classes, teacher-forcing inputs, targets)."""

    def __init__(self, model: NextScaleTransformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, class_B: torch.Tensor, inputs_BLd: torch.Tensor, targets_BL: torch.Tensor,
                with_accuracy: bool = False):
        return self.model.loss(class_B, inputs_BLd, targets_BL, with_accuracy=with_accuracy)


class GeneratorTrainer(Trainer):
    """The generator, its optimizers and one step; the loop is the core's."""

    name = "train-generator"

    def __init__(self, config: GeneratorRunConfig, context: DistributedContext, run_dir: Path, cache: TokenCache,
                 quantizer: MultiScaleResidualQuantizer, tokenizer_id: str) -> None:
        super().__init__(config.train, context, run_dir, config_to_yaml(config),
                         {"task": "generator", "head": config.model.head, "tokenizer": tokenizer_id})
        self.config, self.cache = config, cache
        device = context.device
        torch.manual_seed(config.train.seed)  # identical initial weights on every rank
        self.quantizer = quantizer.to(device)
        self.generator = build_generator(config, quantizer).to(device)
        # the token cache lives on the device: a step gathers its rows without any host work
        self.scales_N = [index_map.to(device) for index_map in cache.scales_N]
        self.labels_N = cache.labels_N.to(device)
        optim = config.optim
        optimizers = build_optimizers(self.generator, kind=optim.kind, lr=optim.lr, weight_decay=optim.weight_decay,
                                      betas=tuple(optim.betas), momentum=optim.momentum)
        schedule = WarmupCosine(optim.warmup_steps, config.train.steps, optim.min_lr_ratio)
        for optimizer in optimizers:
            name = type(optimizer).__name__.lower()
            self.optimizers[name] = optimizer
            self.schedulers[name] = LambdaLR(optimizer, schedule)
        self.weights["model"] = self.generator
        self.ema = ModelEma(self.generator, config.train.ema_decay)
        self.data_start = data_state(len(cache), config.train.seed, config.data.batch_size, 0)
        loss_module = LossModule(self.generator)
        if config.train.compile:
            loss_module = torch.compile(loss_module)
        if context.enabled:
            loss_module = DistributedDataParallel(loss_module, device_ids=[device] if device.type == "cuda" else None)
        self.loss_module = loss_module

    def extra_state(self, step: int) -> dict[str, Any]:
        return {"data": data_state(len(self.cache), self.config.train.seed, self.config.data.batch_size, step),
                "num_samples": len(self.cache)}

    def load_extra_state(self, state: dict[str, Any], checkpoint: Path) -> None:
        if state.get("num_samples") != len(self.cache):
            raise ValueError(f"checkpoint {checkpoint} was trained on {state.get('num_samples')} token maps but "
                             f"data.tokens holds {len(self.cache)}: the data order would not continue")
        self.data_start = {key: int(value) for key, value in state["data"].items()}

    def train_step(self, step: int, rows_B: torch.Tensor) -> dict[str, torch.Tensor]:
        rows_B = rows_B.to(self.context.device, non_blocking=True)
        indices = [index_map[rows_B] for index_map in self.scales_N]
        inputs_BLd = teacher_forcing_inputs(self.quantizer, indices)
        targets_BL = flatten_scales(indices)
        self.generator.train()
        for optimizer in self.optimizers.values():
            optimizer.zero_grad(set_to_none=True)
        with self.autocast:
            # per-scale accuracy costs another V-way pass (the factorized head scores all codewords): log steps only
            result = self.loss_module(self.labels_N[rows_B], inputs_BLd, targets_BL, self.logs_due(step))
        result.loss.backward()
        clip = self.config.optim.grad_clip
        grad_norm = torch.nn.utils.clip_grad_norm_(self.generator.parameters(), clip if clip > 0 else math.inf)
        lr = next(iter(self.schedulers.values())).get_last_lr()[0]
        for optimizer, scheduler in zip(self.optimizers.values(), self.schedulers.values(), strict=True):
            optimizer.step()
            scheduler.step()
        self.ema.update(self.generator)
        logs = {"loss": result.loss.detach().float(), "grad_norm": grad_norm.detach(),
                "lr": torch.tensor(lr, dtype=torch.float64)}
        if result.accuracy_K is not None:
            logs |= {f"accuracy_scale_{k}": accuracy for k, accuracy in enumerate(result.accuracy_K.float())}
        return logs

    def throughput(self, steps: int, elapsed: float) -> dict[str, float]:
        images = self.config.data.batch_size * steps / elapsed
        return {"images_per_s": images, "tokens_per_s": images * self.generator.num_tokens}

    def progress_fields(self, means: dict[str, float]) -> dict[str, str]:
        return {"tok_s": f"{means['tokens_per_s']:.3g}"}

    def batches(self, end_step: int) -> DataLoader:
        context, data = self.context, self.config.data
        sampler = ShardedBatchSampler(len(self.cache), data.batch_size, context.rank, context.world_size,
                                      self.data_start, self.start_step, end_step)
        return DataLoader(SampleIndices(len(self.cache)), batch_sampler=sampler, num_workers=0,
                          collate_fn=torch.tensor)


def prepare(args: argparse.Namespace):
    """Every check that needs no accelerator: config, token cache, tokenizer match, head, resume compatibility."""
    if args.stop_at is not None and args.stop_at < 1:
        raise ValueError(f"--stop-at must be a positive step, got {args.stop_at}")
    config = load_config(args.config, args.overrides)
    run_dir = check_run_dir(Path(config.train.run_dir))
    cache = read_token_cache(config.data.tokens)
    quantizer, tokenizer_id = load_tokenizer_quantizer(config)
    if cache.tokenizer_id != tokenizer_id:
        raise ValueError(f"data.tokens {config.data.tokens} was made by another tokenizer than data.tokenizer "
                         f"{config.data.tokenizer} (identity {cache.tokenizer_id[:12]} vs {tokenizer_id[:12]})")
    if cache.scales != [side for side, _ in quantizer.sizes] or cache.codebook_size != quantizer.codebook_size:
        raise ValueError(f"data.tokens has scales {cache.scales} and {cache.codebook_size} codes, the tokenizer "
                         f"{[side for side, _ in quantizer.sizes]} and {quantizer.codebook_size}")
    if int(cache.labels_N.max()) >= config.data.num_classes:
        raise ValueError(f"data.tokens has labels up to {int(cache.labels_N.max())}, but data.num_classes is "
                         f"{config.data.num_classes}")
    resume = resume_checkpoint(args.resume, run_dir)
    if resume is not None:
        check_resume_compatible(load_checkpoint_config(resume), to_mapping(config), resume, RESUMABLE_CHANGES)
    return config, run_dir, resume, cache, quantizer, tokenizer_id


def run(args: argparse.Namespace) -> int:
    config, run_dir, resume, cache, quantizer, tokenizer_id = prepare(args)
    context = init_distributed(config.train.device)
    try:
        if config.data.batch_size % context.world_size:
            raise ValueError(f"data.batch_size {config.data.batch_size} is not divisible by the "
                             f"{context.world_size} ranks")
        with RunDirectoryLock(run_dir) if context.is_main else nullcontext():
            trainer = GeneratorTrainer(config, context, run_dir, cache, quantizer, tokenizer_id)
            if context.is_main:
                record_run(run_dir, config_to_yaml(config), context.world_size, resume)
                parameters = sum(p.numel() for p in trainer.generator.parameters())
                print(f"train-generator: {len(cache)} token maps of {trainer.generator.num_tokens} tokens, "
                      f"{parameters / 1e6:.2f} M parameters, head {config.model.head}, {config.train.steps} steps, "
                      f"run directory {run_dir}" + (f", resuming from {resume}" if resume else ""), file=sys.stderr)
            if resume is not None:
                trainer.restore(resume)
            end_step = config.train.steps if args.stop_at is None else min(args.stop_at, config.train.steps)
            trainer.fit(trainer.batches(end_step), end_step)
    finally:
        shutdown_distributed(context)
    return 0
