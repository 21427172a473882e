"""Configuration of `slq train-tokenizer`: nested dataclasses loaded from YAML with `--set` overrides."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from experiments.training.config_io import apply_overrides, from_mapping, load_yaml_mapping, to_mapping
from experiments.training.train_config import RESUMABLE_TRAIN_KEYS, TrainConfig, validate_train
from models.tokenizer.losses import LossConfig
from models.tokenizer import TokenizerConfig, with_preset_defaults


@dataclass
class DataConfig:
    """Training images: random square crops of the images in `train_dir` (searched recursively), or with
    dataset "fashion-mnist" the 60,000 training images of the idx files in `train_dir` at 32x32 RGB."""

    dataset: Literal["image-folder", "fashion-mnist"] = "image-folder"
    train_dir: str = ""
    crop_size: int = 128
    # Global batch: split evenly over the ranks of a torchrun job.
    batch_size: int = 64
    num_workers: int = 4


@dataclass
class OptimConfig:
    """AdamW (fused on CUDA) with linear warm-up and cosine decay to `min_lr_ratio`·lr."""

    lr: float = 2e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.99])
    weight_decay: float = 1e-4
    warmup_steps: int = 1000
    min_lr_ratio: float = 0.1
    # Global gradient-norm clip of the generator; 0 disables it.
    grad_clip: float = 1.0
    discriminator_lr: float = 2e-4


@dataclass
class EvalConfig:
    """Periodic evaluation of the EMA model on center crops of the images in `data_dir` ("" disables it)."""

    data_dir: str = ""
    every: int = 5000
    crop: int = 256
    max_images: int = 24
    batch_size: int = 8
    lpips_nets: list[Literal["alex", "vgg"]] = field(default_factory=lambda: ["alex", "vgg"])
    # FD-VGG16 needs more pool5 vectors than 512 dimensions: at 256 px, 9 or more images.
    frechet: bool = True


@dataclass
class TokenizerRunConfig:
    """Everything `slq train-tokenizer` needs; the resolved copy is written into the run and each checkpoint."""

    model: TokenizerConfig = field(default_factory=TokenizerConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


# Config keys that may change when a run is resumed: they do not alter the optimization.
RESUMABLE_CHANGES = (*RESUMABLE_TRAIN_KEYS, "data.train_dir", "data.num_workers", "loss.vf.weights", "eval.")


def _require_positive(values: dict[str, float]) -> None:
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")


def _require_non_negative(values: dict[str, float]) -> None:
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")


def validate(config: TokenizerRunConfig) -> None:
    """Cross-field checks that the dataclasses cannot make on their own (no file-system access)."""
    validate_train(config.train)
    _require_positive({
        "data.crop_size": config.data.crop_size, "data.batch_size": config.data.batch_size,
        "optim.lr": config.optim.lr, "optim.discriminator_lr": config.optim.discriminator_lr,
        "eval.every": config.eval.every, "eval.crop": config.eval.crop,
        "eval.max_images": config.eval.max_images, "eval.batch_size": config.eval.batch_size,
    })
    _require_non_negative({
        "loss.l1": config.loss.l1, "loss.lpips": config.loss.lpips, "loss.quantizer": config.loss.quantizer, "loss.gan.weight": config.loss.gan.weight,
        "loss.vf.weight": config.loss.vf.weight, "optim.weight_decay": config.optim.weight_decay,
        "optim.warmup_steps": config.optim.warmup_steps, "optim.grad_clip": config.optim.grad_clip,
        "data.num_workers": config.data.num_workers,
    })
    if not 0.0 <= config.optim.min_lr_ratio <= 1.0:
        raise ValueError(f"optim.min_lr_ratio must lie in [0, 1], got {config.optim.min_lr_ratio}")
    patch = config.model.patch_size
    if config.data.crop_size % patch or config.eval.crop % patch:
        raise ValueError(f"data.crop_size ({config.data.crop_size}) and eval.crop ({config.eval.crop}) must be "
                         f"multiples of model.patch_size ({patch})")
    if config.data.dataset == "fashion-mnist" and config.data.crop_size != 32:
        raise ValueError(f"data.dataset fashion-mnist gives 32x32 images: data.crop_size must be 32, "
                         f"got {config.data.crop_size}")
    if config.model.scales:
        grid = config.model.scales[-1] * patch
        if config.data.crop_size != grid or (config.eval.data_dir and config.eval.crop != grid):
            raise ValueError(f"a multi-scale tokenizer works at one image size: the last of model.scales "
                             f"({config.model.scales[-1]}) times model.patch_size ({patch}) is {grid}, so "
                             f"data.crop_size (and eval.crop) must be {grid}, got {config.data.crop_size} "
                             f"and {config.eval.crop}")
    if len(config.optim.betas) != 2 or not all(0.0 <= beta < 1.0 for beta in config.optim.betas):
        raise ValueError(f"optim.betas must be two numbers in [0, 1), got {config.optim.betas}")
    if config.loss.vf.weight > 0 and not config.loss.vf.weights:
        raise ValueError("loss.vf.weight > 0 needs loss.vf.weights: the path of a DINOv2 safetensors file")
    if not config.data.train_dir:
        raise ValueError("data.train_dir is not set: give it in the config or with --set data.train_dir=DIR")


def config_from_mapping(mapping: dict[str, Any]) -> TokenizerRunConfig:
    """Run config from a plain mapping (model preset filled in), validated."""
    if not isinstance(mapping, dict):
        raise TypeError(f"a tokenizer config must be a mapping, got {type(mapping).__name__}")
    if isinstance(mapping.get("model"), dict):
        mapping = {**mapping, "model": with_preset_defaults(mapping["model"])}
    config = from_mapping(TokenizerRunConfig, mapping)
    validate(config)
    return config


def load_config(path: str | Path, overrides: list[str] | None = None) -> TokenizerRunConfig:
    """Read a YAML config, apply "section.key=value" overrides, and build the validated run config."""
    return config_from_mapping(apply_overrides(load_yaml_mapping(path), overrides or []))


def config_to_yaml(config: TokenizerRunConfig) -> str:
    import yaml

    return yaml.safe_dump(to_mapping(config), sort_keys=False)
