"""The tokenizer training loop: DDP, bf16 autocast, fused AdamW, EMA, GAN/VF losses, logging, checkpoints, resume."""
from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import LambdaLR

from experiments.dataclass_config import differences, to_mapping
from experiments.distributed import DistributedContext, barrier, mean_over_ranks
from experiments.metrics_log import MetricsLog
from experiments.tokenizer_checkpoint import load_trainer_state, save_checkpoint
from experiments.tokenizer_config import TokenizerRunConfig, config_to_yaml
from experiments.tokenizer_data import DecodedRandomCrops, ShardedBatchSampler, data_state, training_loader
from models.discriminator import PatchDiscriminator
from models.ema import EMA
from models.losses import GeneratorLoss, discriminator_loss
from models.safetensors_io import load_safetensors_strict
from models.schedule import WarmupCosine
from models.tokenizer import Tokenizer, TokenizerOutput

# Config keys that may change when a run is resumed: they do not alter the optimization.
RESUMABLE_CHANGES = (
    "train.steps", "train.log_every", "train.checkpoint_every", "train.keep_checkpoints", "train.progress_bar",
    "train.compile", "train.device", "train.run_dir", "data.train_dir", "data.num_workers", "loss.vf.weights",
    "eval.",
)


def check_resume_compatible(saved: dict[str, Any], current: TokenizerRunConfig, checkpoint: Path) -> None:
    """ValueError unless `current` differs from the checkpoint's config only in RESUMABLE_CHANGES."""
    changed = differences(saved, to_mapping(current))
    model_changes = [line for line in changed if line.startswith("model.")]
    if model_changes:
        raise ValueError(f"checkpoint {checkpoint} was trained with another model or quantizer: "
                         + "; ".join(model_changes))
    other = [line for line in changed if not line.startswith(RESUMABLE_CHANGES)]
    if other:
        raise ValueError(f"cannot resume from {checkpoint} with a changed training setup (start a new run "
                         "directory instead): " + "; ".join(other))


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


def decay_groups(module: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW parameter groups: weight decay on matrices and kernels, none on biases, norms and embeddings tables."""
    decay, no_decay = [], []
    for name, parameter in module.named_parameters():
        if parameter.requires_grad:
            (decay if parameter.ndim >= 2 and not name.endswith("table_1ND") else no_decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def step_seed(seed: int, step: int, rank: int) -> int:
    """Seed of torch's global generators for one step of one rank, so that resuming needs no RNG state."""
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1, dtype=np.uint64)[0] >> 1)


@dataclass
class StepTimer:
    """Wall time and step count since the last log line."""

    start: float
    steps: int = 0


class TokenizerTrainer:
    """Builds everything from a validated config on `context.device`, optionally restores a checkpoint, then trains."""

    def __init__(self, config: TokenizerRunConfig, context: DistributedContext, run_dir: Path,
                 resume_from: Path | None, dataset: DecodedRandomCrops) -> None:
        self.config = config
        self.context = context
        self.run_dir = Path(run_dir)
        self.dataset = dataset
        device = context.device
        self.autocast = (torch.autocast(device.type, dtype=torch.bfloat16)
                         if config.train.precision == "bf16" else nullcontext())
        torch.manual_seed(config.train.seed)  # identical initial weights on every rank
        self.tokenizer = Tokenizer(config.model).to(device)
        self.tokenizer.set_grad_checkpointing(config.train.grad_checkpointing)
        self.discriminator = self._build_discriminator()
        dino = self._build_dino()
        vf_projection = nn.Linear(config.model.latent_dim, dino.feature_dim).to(device) if dino is not None else None
        self.train_module = TrainModule(self.tokenizer, vf_projection)
        self.loss = GeneratorLoss(config.loss, self._build_lpips(), self.discriminator, dino)
        fused = device.type == "cuda"
        optim = config.optim
        self.optimizer = torch.optim.AdamW(decay_groups(self.train_module, optim.weight_decay), lr=optim.lr,
                                           betas=tuple(optim.betas), fused=fused)
        self.scheduler = LambdaLR(self.optimizer, WarmupCosine(optim.warmup_steps, config.train.steps,
                                                               optim.min_lr_ratio))
        self.discriminator_optimizer = (
            torch.optim.AdamW(decay_groups(self.discriminator, optim.weight_decay), lr=optim.discriminator_lr,
                              betas=tuple(optim.betas), fused=fused)
            if self.discriminator is not None else None)
        self.ema = EMA(self.tokenizer, config.train.ema_decay)
        self.start_step = 0
        self.log: MetricsLog | None = None
        self.data_start = data_state(len(dataset), config.train.seed, config.data.batch_size, 0)
        if resume_from is not None:
            self._restore(resume_from)
        self.model: nn.Module = self._wrap(self.train_module)
        self.discriminator_model = self._wrap(self.discriminator) if self.discriminator is not None else None

    # construction ---------------------------------------------------------------------------
    def _build_discriminator(self) -> PatchDiscriminator | None:
        gan = self.config.loss.gan
        if gan.weight <= 0:
            return None
        return PatchDiscriminator(gan.channels, gan.num_layers).to(self.context.device)

    def _build_lpips(self) -> nn.Module | None:
        if self.config.loss.lpips <= 0:
            return None
        from models.metrics.lpips_metric import LpipsDistance

        return LpipsDistance(self.config.loss.lpips_net).to(self.context.device)

    def _build_dino(self) -> nn.Module | None:
        vf = self.config.loss.vf
        if vf.weight <= 0:
            return None
        from models.vf_loss import DinoFeatures

        grid = self.config.data.crop_size // self.config.model.patch_size
        image_size = vf.image_size or grid * 14
        return DinoFeatures(vf.weights, image_size, vf.model_name).to(self.context.device)

    def _wrap(self, module: nn.Module) -> nn.Module:
        if self.config.train.compile:
            module = torch.compile(module)
        if self.context.enabled:
            device_ids = [self.context.device] if self.context.device.type == "cuda" else None
            # No buffer changes during training (no BatchNorm); syncing them each step would resend the codebooks.
            module = DistributedDataParallel(module, device_ids=device_ids, forward_sync_buffers=False,
                                             gradient_as_bucket_view=True)
        return module

    # checkpoints ----------------------------------------------------------------------------
    def _weight_modules(self) -> dict[str, nn.Module]:
        modules: dict[str, nn.Module] = {"model": self.tokenizer, "ema": self.ema.shadow}
        if self.discriminator is not None:
            modules["discriminator"] = self.discriminator
        if self.train_module.vf_projection is not None:
            modules["vf_projection"] = self.train_module.vf_projection
        return modules

    def _trainer_state(self, step: int) -> dict[str, Any]:
        state = {
            "step": step,
            "data": data_state(len(self.dataset), self.config.train.seed, self.config.data.batch_size, step),
            "num_images": len(self.dataset),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "ema_updates": self.ema.updates,
        }
        if self.discriminator_optimizer is not None:
            state["discriminator_optimizer"] = self.discriminator_optimizer.state_dict()
        return state

    def _restore(self, checkpoint: Path) -> None:
        state = load_trainer_state(checkpoint)
        if state.get("num_images") != len(self.dataset):
            raise ValueError(f"checkpoint {checkpoint} was trained on {state.get('num_images')} images but "
                             f"data.train_dir holds {len(self.dataset)}: the data order would not continue")
        for name, module in self._weight_modules().items():
            load_safetensors_strict(module, Path(checkpoint) / f"{name}.safetensors", f"checkpoint {name}")
        self.optimizer.load_state_dict(state["optimizer"])
        scheduler_state = dict(state["scheduler"])
        scheduler_state["lr_lambdas"] = [None]  # keep this config's schedule (train.steps may have grown)
        self.scheduler.load_state_dict(scheduler_state)
        self.start_step = int(state["step"])
        for group, base_lr in zip(self.optimizer.param_groups, self.scheduler.base_lrs, strict=True):
            group["lr"] = base_lr * self.scheduler.lr_lambdas[0](self.start_step)
        if self.discriminator_optimizer is not None:
            self.discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])
        self.ema.updates = int(state["ema_updates"])
        self.data_start = {key: int(value) for key, value in state["data"].items()}

    def save(self, step: int) -> Path | None:
        """Rank 0 writes the checkpoint of `step`; every rank waits for it."""
        path = None
        if self.context.is_main:
            path = save_checkpoint(self.run_dir, step, self._weight_modules(), self._trainer_state(step),
                                   config_to_yaml(self.config), self.config.train.keep_checkpoints)
        barrier(self.context)
        return path

    # training -------------------------------------------------------------------------------
    def _generator_step(self, step: int, images: torch.Tensor) -> tuple[TokenizerOutput, dict[str, torch.Tensor]]:
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast:
            output, projected = self.model(images)
            loss, logs = self.loss(images, output, projected, step, self.tokenizer.decoder.last_layer_weight,
                                   self.tokenizer.encoder.to_latent.weight)
        loss.backward()
        parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
        clip = self.config.optim.grad_clip
        logs["grad_norm"] = torch.nn.utils.clip_grad_norm_(parameters, clip if clip > 0 else math.inf).detach()
        logs["lr"] = torch.tensor(self.scheduler.get_last_lr()[0], dtype=torch.float64, device=images.device)
        self.optimizer.step()
        self.scheduler.step()
        self.ema.update(self.tokenizer)
        logs |= {f"q_{name}": value.detach().float() for name, value in output.quantizer.stats.items()}
        return output, logs

    def _discriminator_step(self, step: int, images: torch.Tensor, output: TokenizerOutput) -> dict[str, torch.Tensor]:
        if not self.loss.gan_active(step):
            zero = torch.zeros((), device=images.device)
            return {"gan_discriminator": zero, "logits_real": zero, "logits_fake": zero}
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        with self.autocast:
            loss, logs = discriminator_loss(self.discriminator_model, images, output.reconstruction)
        loss.backward()
        self.discriminator_optimizer.step()
        return logs

    def train_step(self, step: int, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimizer step of the generator (and the discriminator when the GAN is on) at global step `step`."""
        torch.manual_seed(step_seed(self.config.train.seed, step, self.context.rank))
        self.model.train()
        output, logs = self._generator_step(step, images)
        if self.discriminator is not None:
            logs |= self._discriminator_step(step, images, output)
        return logs

    def train(self, evaluate: Any = None, stop_at: int | None = None) -> dict[str, float]:
        """Train from start_step to train.steps (or to `stop_at`, with a checkpoint there); returns the last log.

        `evaluate(trainer, step)` runs every eval.every steps and at the end of the run.
        """
        config, context = self.config, self.context
        end_step = config.train.steps if stop_at is None else min(stop_at, config.train.steps)
        sampler = ShardedBatchSampler(len(self.dataset), config.data.batch_size, context.rank, context.world_size,
                                      self.data_start, self.start_step, end_step)
        loader = training_loader(self.dataset, sampler, config.data.num_workers, context.device.type == "cuda")
        self.log = MetricsLog(self.run_dir, self.start_step) if context.is_main else None
        progress = self._progress_bar()
        totals: dict[str, torch.Tensor] = {}
        last: dict[str, float] = {}
        timer = StepTimer(time.perf_counter())
        try:
            for step, images in enumerate(loader, start=self.start_step):
                logs = self.train_step(step, images.to(context.device, non_blocking=True))
                totals = {name: totals.get(name, 0.0) + value for name, value in logs.items()}
                timer.steps += 1
                done = step + 1
                if progress is not None:
                    progress.update(1)
                if done % config.train.log_every == 0 or done == config.train.steps:
                    last = self._log(progress, done, totals, timer)
                    totals, timer = {}, StepTimer(time.perf_counter())
                if evaluate is not None and (done % config.eval.every == 0 or done == config.train.steps):
                    evaluate(self, done)
                if done % config.train.checkpoint_every == 0 or done == end_step:
                    self.save(done)
        finally:
            if progress is not None:
                progress.close()
            if self.log is not None:
                self.log.close()
        return last

    def _progress_bar(self) -> Any:
        if not (self.context.is_main and self.config.train.progress_bar):
            return None
        from tqdm import tqdm

        return tqdm(total=self.config.train.steps, initial=self.start_step, desc="train-tokenizer", unit="step",
                    dynamic_ncols=True)

    def _log(self, progress: Any, step: int, totals: dict[str, torch.Tensor],
             timer: StepTimer) -> dict[str, float]:
        means = mean_over_ranks({name: value / timer.steps for name, value in totals.items()}, self.context)
        if not math.isfinite(means["loss"]):  # the same value on every rank, so all of them stop
            raise ValueError(f"the training loss became {means['loss']} in the {timer.steps} steps up to step {step}; "
                             "lower optim.lr or raise optim.warmup_steps, and resume from the last checkpoint")
        elapsed = time.perf_counter() - timer.start
        means["step_time_s"] = elapsed / timer.steps
        means["images_per_s"] = self.config.data.batch_size * timer.steps / elapsed
        if self.context.device.type == "cuda":
            means["max_memory_gib"] = torch.cuda.max_memory_allocated(self.context.device) / 2**30
        if self.log is not None:
            self.log.write("train", step, means)
        if progress is not None:
            progress.set_postfix(loss=f"{means['loss']:.4f}", img_s=f"{means['images_per_s']:.0f}")
        return means
