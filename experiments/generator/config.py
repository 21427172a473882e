"""Configuration of `slq train-generator`: nested dataclasses loaded from YAML with `--set` overrides."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from experiments.training.config_io import apply_overrides, from_mapping, load_yaml_mapping, to_mapping
from experiments.training.train_config import RESUMABLE_TRAIN_KEYS, TrainConfig, validate_train

# Which heads read which quantizers' tokens (the multi-scale tokenizer's inner quantizer).
HEAD_QUANTIZERS = {"full": None, "factorized": ("leech24",), "bits": ("bsq", "lfq")}


@dataclass
class GeneratorModelConfig:
    """The next-scale transformer: a size preset (or width/depth/heads with preset ""), and its output head."""

    preset: str = "small"
    width: int = 256
    depth: int = 6
    heads: int = 4
    mlp_ratio: float = 4.0
    class_dropout: float = 0.1
    head: Literal["full", "factorized", "bits"] = "full"
    z_loss_weight: float = 1e-4


@dataclass
class GeneratorDataConfig:
    """Training tokens: a `slq tokenize` cache made with the tokenizer checkpoint `tokenizer`."""

    tokens: str = ""
    tokenizer: str = ""
    num_classes: int = 10
    batch_size: int = 256


@dataclass
class GeneratorOptimConfig:
    """Muon for the blocks' matrices and AdamW for the rest ("muon"), or AdamW for all; warm-up + cosine."""

    kind: Literal["muon", "adamw"] = "muon"
    lr: float = 1e-3
    weight_decay: float = 0.05
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95])
    momentum: float = 0.95
    warmup_steps: int = 200
    min_lr_ratio: float = 0.1
    grad_clip: float = 2.0


@dataclass
class GeneratorRunConfig:
    """Everything `slq train-generator` needs; the resolved copy is written into the run and each checkpoint."""

    model: GeneratorModelConfig = field(default_factory=GeneratorModelConfig)
    data: GeneratorDataConfig = field(default_factory=GeneratorDataConfig)
    optim: GeneratorOptimConfig = field(default_factory=GeneratorOptimConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(run_dir="runs/generator"))


RESUMABLE_CHANGES = (*RESUMABLE_TRAIN_KEYS, "data.tokens", "data.tokenizer")


def validate(config: GeneratorRunConfig) -> None:
    """Checks that need no files: sizes, rates and weights in range."""
    validate_train(config.train)
    model, data, optim = config.model, config.data, config.optim
    for key, value in {"data.batch_size": data.batch_size, "data.num_classes": data.num_classes,
                       "optim.lr": optim.lr, "model.mlp_ratio": model.mlp_ratio}.items():
        if value <= 0:
            raise ValueError(f"{key} must be positive, got {value}")
    for key, value in {"optim.weight_decay": optim.weight_decay, "optim.warmup_steps": optim.warmup_steps,
                       "optim.grad_clip": optim.grad_clip, "model.z_loss_weight": model.z_loss_weight}.items():
        if value < 0:
            raise ValueError(f"{key} must be >= 0, got {value}")
    if not 0 <= model.class_dropout < 1:
        raise ValueError(f"model.class_dropout must lie in [0, 1), got {model.class_dropout}")
    if len(optim.betas) != 2 or not all(0.0 <= beta < 1.0 for beta in optim.betas):
        raise ValueError(f"optim.betas must be two numbers in [0, 1), got {optim.betas}")
    if not 0.0 <= optim.min_lr_ratio <= 1.0:
        raise ValueError(f"optim.min_lr_ratio must lie in [0, 1], got {optim.min_lr_ratio}")
    if not data.tokens or not data.tokenizer:
        raise ValueError("data.tokens (a `slq tokenize` cache) and data.tokenizer (its tokenizer checkpoint) must be set")


def with_preset(model_mapping: dict[str, Any]) -> dict[str, Any]:
    """A model mapping with the preset's width/depth/heads filled in where the mapping has none."""
    from models.generator import PRESETS

    preset = model_mapping.get("preset", GeneratorModelConfig.preset)
    if not preset:
        return dict(model_mapping)
    if preset not in PRESETS:
        raise ValueError(f"unknown model.preset {preset!r}; expected one of {sorted(PRESETS)} or '' (custom size)")
    width, depth, heads = PRESETS[preset]
    sized = {"width": width, "depth": depth, "heads": heads}
    conflicts = [f"model.{key}={model_mapping[key]}" for key, value in sized.items()
                 if key in model_mapping and model_mapping[key] != value]
    if conflicts:
        raise ValueError(f"{', '.join(conflicts)} conflicts with model.preset {preset!r}; set model.preset to '' "
                         "for a custom size")
    return {**sized, **model_mapping}


def config_from_mapping(mapping: dict[str, Any]) -> GeneratorRunConfig:
    if not isinstance(mapping, dict):
        raise TypeError(f"a generator config must be a mapping, got {type(mapping).__name__}")
    if isinstance(mapping.get("model"), dict):
        mapping = {**mapping, "model": with_preset(mapping["model"])}
    config = from_mapping(GeneratorRunConfig, mapping)
    validate(config)
    return config


def load_config(path: str | Path, overrides: list[str] | None = None) -> GeneratorRunConfig:
    return config_from_mapping(apply_overrides(load_yaml_mapping(path), overrides or []))


def config_to_yaml(config: GeneratorRunConfig) -> str:
    return yaml.safe_dump(to_mapping(config), sort_keys=False)
