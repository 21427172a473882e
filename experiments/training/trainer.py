"""The one training core: the step loop with bf16 autocast, EMA, logging, periodic evaluation, checkpoints, exact resume.

A task (the tokenizer, the generator) subclasses `Trainer`: it builds its modules and optimizers,
lists them in `weights`, `optimizers` and `schedulers`, and implements `train_step(step, batch)`.
Everything else is here, once: which checkpoint files exist, how optimizer/scheduler/EMA state is
restored (with the learning rate recomputed from the step, so `train.steps` may grow), the
per-step seeds that make resumed runs identical, the log lines, the progress bar and the cadence
of evaluation and checkpoints. The layout follows VAR's `trainer.py` (Tian et al. 2024,
arXiv 2404.02905) and nanoGPT's `train.py`.
"""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from experiments.training.checkpoints import load_trainer_state, save_checkpoint, verify_checkpoint
from experiments.training.distributed import DistributedContext, barrier, mean_over_ranks
from experiments.training.ema import ModelEma
from experiments.training.metrics_log import MetricsLog
from experiments.training.train_config import TrainConfig
from models.weights_io import load_safetensors_strict


def step_seed(seed: int, step: int, rank: int) -> int:
    """Seed of torch's global generators for one step of one rank, so that resuming needs no RNG state."""
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1, dtype=np.uint64)[0] >> 1)


def decay_groups(module: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW parameter groups: weight decay on matrices and kernels, none on biases, norms and embedding tables."""
    decay, no_decay = [], []
    for name, parameter in module.named_parameters():
        if parameter.requires_grad:
            (decay if parameter.ndim >= 2 and not name.endswith("table_1ND") else no_decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class Trainer:
    """Base of every trainer; subclasses fill `weights`, `optimizers`, `schedulers`, `ema` and `train_step`.

    weights: name -> module written as <name>.safetensors in each checkpoint ("model" and "ema" by
    convention). `identity` goes into each checkpoint's manifest and must match on resume.
    """

    name = "train"

    def __init__(self, train: TrainConfig, context: DistributedContext, run_dir: Path, config_yaml: str,
                 identity: dict[str, str]) -> None:
        self.train_config = train
        self.context = context
        self.run_dir = Path(run_dir)
        self.config_yaml = config_yaml
        self.identity = dict(identity)
        self.autocast = (torch.autocast(context.device.type, dtype=torch.bfloat16)
                         if train.precision == "bf16" else nullcontext())
        self.weights: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, torch.optim.lr_scheduler.LambdaLR] = {}
        self.ema: ModelEma | None = None
        self.start_step = 0
        self.log: MetricsLog | None = None

    # the task's part ----------------------------------------------------------------------------
    def train_step(self, step: int, batch: Any) -> dict[str, torch.Tensor]:
        """One optimizer step at global step `step` (0-based); returns detached scalar logs incl. "loss".

        A step may leave out costly values (see `logs_due`); every key must appear in the step before a log.
        """
        raise NotImplementedError

    def extra_state(self, step: int) -> dict[str, Any]:
        """Task state stored in trainer_state.pt besides optimizers, schedulers and the step (e.g. data order)."""
        return {}

    def load_extra_state(self, state: dict[str, Any], checkpoint: Path) -> None:
        """Restore what `extra_state` wrote."""

    # checkpoints ----------------------------------------------------------------------------------
    def checkpoint_weights(self) -> dict[str, nn.Module]:
        weights = dict(self.weights)
        if self.ema is not None:
            weights["ema"] = self.ema.module
        return weights

    def save(self, step: int) -> Path | None:
        """Rank 0 writes the checkpoint of `step`; every rank waits for it."""
        path = None
        if self.context.is_main:
            state = {"step": step, "ema_updates": self.ema.updates if self.ema is not None else 0,
                     "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
                     "schedulers": {name: sched.state_dict() for name, sched in self.schedulers.items()},
                     **self.extra_state(step)}
            path = save_checkpoint(self.run_dir, step, self.checkpoint_weights(), state, self.config_yaml,
                                   self.train_config.keep_checkpoints, self.identity)
        barrier(self.context)
        return path

    def restore(self, checkpoint: Path) -> None:
        """Load weights, optimizer, scheduler and EMA state of a verified checkpoint; training continues at its step."""
        verify_checkpoint(checkpoint, identity=self.identity)
        state = load_trainer_state(checkpoint)
        for name, module in self.checkpoint_weights().items():
            load_safetensors_strict(module, Path(checkpoint) / f"{name}.safetensors", f"checkpoint {name}")
        self.start_step = int(state["step"])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for name, scheduler in self.schedulers.items():
            saved = dict(state["schedulers"][name])
            saved["lr_lambdas"] = [None] * len(scheduler.lr_lambdas)  # keep this config's schedule
            scheduler.load_state_dict(saved)
            for group, base_lr, factor in zip(scheduler.optimizer.param_groups, scheduler.base_lrs,
                                              scheduler.lr_lambdas, strict=True):
                group["lr"] = base_lr * factor(self.start_step)
        if self.ema is not None:
            self.ema.updates = int(state["ema_updates"])
        self.load_extra_state(state, Path(checkpoint))

    # the loop ---------------------------------------------------------------------------------------
    def fit(self, batches: Iterable[Any], end_step: int,
            evaluate: Callable[[Trainer, int], dict[str, float] | None] | None = None,
            eval_every: int = 0) -> dict[str, float]:
        """Run steps start_step..end_step-1 over `batches` (one per step); returns the last logged means.

        Logs every train.log_every steps (train.csv, progress bar or a line on stderr), evaluates every
        `eval_every` steps and at train.steps, checkpoints every train.checkpoint_every steps and at `end_step`.
        """
        train, context = self.train_config, self.context
        self.log = MetricsLog(self.run_dir, self.start_step) if context.is_main else None
        progress = self._progress_bar()
        totals: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        last: dict[str, float] = {}
        window_start, window_steps, started = time.perf_counter(), 0, time.perf_counter()
        try:
            for step, batch in enumerate(batches, start=self.start_step):
                if step >= end_step:
                    break
                torch.manual_seed(step_seed(train.seed, step, context.rank))
                logs = self.train_step(step, batch)
                totals = {**totals, **{name: totals.get(name, 0.0) + value for name, value in logs.items()}}
                counts = {**counts, **{name: counts.get(name, 0) + 1 for name in logs}}
                window_steps += 1
                done = step + 1
                if progress is not None:
                    progress.update(1)
                if done % train.log_every == 0 or done == end_step:
                    last = self._log(progress, done, totals, counts, window_steps, time.perf_counter() - window_start)
                    totals, counts, window_steps, window_start = {}, {}, 0, time.perf_counter()
                if evaluate is not None and eval_every and (done % eval_every == 0 or done == train.steps):
                    result = evaluate(self, done)
                    if result and self.log is not None:
                        self.log.write("eval", done, result)
                if done % train.checkpoint_every == 0 or done == end_step:
                    self.save(done)
        finally:
            if progress is not None:
                progress.close()
            if self.log is not None:
                self.log.close()
        if context.is_main and last:
            elapsed = time.perf_counter() - started
            summary = ", ".join(f"{key} {last[key]:.4g}" for key in ("loss", "step_time_s") if key in last)
            print(f"{self.name}: stopped at step {end_step} of {train.steps} after {elapsed:.1f} s ({summary}); "
                  f"checkpoints in {self.run_dir / 'checkpoints'}", file=sys.stderr)
        return last

    def _progress_bar(self) -> Any:
        if not (self.context.is_main and self.train_config.progress_bar):
            return None
        from tqdm import tqdm

        return tqdm(total=self.train_config.steps, initial=self.start_step, desc=self.name, unit="step",
                    dynamic_ncols=True)

    def _log(self, progress: Any, step: int, totals: dict[str, torch.Tensor], counts: dict[str, int], steps: int,
             elapsed: float) -> dict[str, float]:
        """Means over the window (a value that only some steps report, e.g. an accuracy, over those steps)."""
        means = mean_over_ranks({name: value / counts[name] for name, value in totals.items()}, self.context)
        if not math.isfinite(means["loss"]):  # the same value on every rank, so all of them stop
            raise ValueError(f"the training loss became {means['loss']} in the {steps} steps up to step {step}; "
                             "lower the learning rate or raise the warm-up, and resume from the last checkpoint")
        means["step_time_s"] = elapsed / steps
        means |= self.throughput(steps, elapsed)
        if self.context.device.type == "cuda":
            means["max_memory_gib"] = torch.cuda.max_memory_allocated(self.context.device) / 2**30
        if self.log is not None:
            self.log.write("train", step, means)
        if progress is not None:
            progress.set_postfix(loss=f"{means['loss']:.4f}", **self.progress_fields(means))
        elif self.context.is_main:
            fields = " ".join(f"{key} {value}" for key, value in self.progress_fields(means).items())
            print(f"{self.name}: step {step}/{self.train_config.steps} loss {means['loss']:.4f} {fields}".rstrip(),
                  file=sys.stderr)
        return means

    def logs_due(self, step: int) -> bool:
        """Whether the step `step` (0-based) ends a log window: the place for costly diagnostics."""
        return (step + 1) % self.train_config.log_every == 0 or step + 1 == self.train_config.steps

    def throughput(self, steps: int, elapsed: float) -> dict[str, float]:
        """Rates for the log (e.g. images_per_s), from the steps and seconds of one log window."""
        return {}

    def progress_fields(self, means: dict[str, float]) -> dict[str, str]:
        """Short fields shown beside the loss on the progress bar or log line."""
        return {}
