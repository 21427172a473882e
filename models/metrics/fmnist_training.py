"""Deterministic training and batched inference of the Fashion-MNIST classifier (evaluator and CAS).

One-cycle SGD with Nesterov momentum (Smith & Topin 2017, arXiv 1708.07120; torch's OneCycleLR),
random horizontal flips and shifts of up to 2 px. Every random draw (initial weights, batch order,
augmentation) comes from generators seeded by `seed`, and torch runs in deterministic-algorithms mode,
so the same seed, device and thread count give bit-identical weights.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from models.metrics.fmnist_classifier import NUM_CLASSES, FashionMNISTClassifier

MAX_SHIFT = 2
INFERENCE_BATCH = 1000


@dataclass(frozen=True)
class TrainingSchedule:
    """Epochs and optimiser settings of one classifier training run."""

    epochs: int = 10
    batch_size: int = 128
    max_lr: float = 0.1
    weight_decay: float = 5e-4

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs} and {self.batch_size}")
        if not (self.max_lr > 0 and self.weight_decay >= 0):
            raise ValueError(f"max_lr must be > 0 and weight_decay >= 0, got {self.max_lr}, {self.weight_decay}")


EVALUATOR_SCHEDULE = TrainingSchedule()
# Classification Accuracy Score (Ravuri & Vinyals 2019, arXiv 1905.10887): a short fixed schedule.
CAS_SCHEDULE = TrainingSchedule(epochs=5)


@contextlib.contextmanager
def deterministic_algorithms() -> Iterator[None]:
    """torch.use_deterministic_algorithms(True) inside the block; the previous setting afterwards."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


def check_labelled_images(images_N1HW: torch.Tensor, labels_N: torch.Tensor) -> None:
    """Classifier inputs (as from `classifier_input`) and int64 labels 0-9 of the same length."""
    if images_N1HW.ndim != 4 or images_N1HW.shape[1] != 1 or not images_N1HW.is_floating_point():
        raise ValueError(f"images must be float (N, 1, H, W), got {images_N1HW.dtype} {tuple(images_N1HW.shape)}")
    if labels_N.dtype != torch.int64 or labels_N.shape != images_N1HW.shape[:1]:
        raise ValueError(
            f"labels must be int64 of shape ({images_N1HW.shape[0]},), got {labels_N.dtype} {tuple(labels_N.shape)}"
        )
    if labels_N.numel() and (labels_N.min() < 0 or labels_N.max() >= NUM_CLASSES):
        raise ValueError(f"labels must lie in 0-{NUM_CLASSES - 1}, got [{labels_N.min()}, {labels_N.max()}]")


def augment(images_B1HW: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and a random shift of up to MAX_SHIFT px (zero fill) per image."""
    count, _, height, width = images_B1HW.shape
    flip = torch.rand(count, generator=generator) < 0.5
    images_B1HW = torch.where(flip[:, None, None, None], images_B1HW.flip(-1), images_B1HW)
    padded_BHW = nn.functional.pad(images_B1HW[:, 0], (MAX_SHIFT,) * 4)
    offsets = torch.randint(0, 2 * MAX_SHIFT + 1, (2, count), generator=generator)
    rows = (offsets[0][:, None] + torch.arange(height))[:, :, None]
    cols = (offsets[1][:, None] + torch.arange(width))[:, None, :]
    return padded_BHW[torch.arange(count)[:, None, None], rows, cols].unsqueeze(1)


def train_classifier(
    images_N1HW: torch.Tensor,
    labels_N: torch.Tensor,
    schedule: TrainingSchedule = EVALUATOR_SCHEDULE,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
    description: str = "train classifier",
) -> FashionMNISTClassifier:
    """A fresh FashionMNISTClassifier trained on (images, labels); returned in eval mode on `device`."""
    check_labelled_images(images_N1HW, labels_N)
    if len(labels_N) < 2:
        raise ValueError(f"training needs at least 2 labelled images, got {len(labels_N)}")
    device = torch.device(device)
    with deterministic_algorithms(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FashionMNISTClassifier().to(device).train()
        order_generator = torch.Generator().manual_seed(seed + 1)
        augment_generator = torch.Generator().manual_seed(seed + 2)
        optimizer = torch.optim.SGD(
            model.parameters(), lr=schedule.max_lr, momentum=0.9, nesterov=True, weight_decay=schedule.weight_decay
        )
        steps_per_epoch = -(-len(labels_N) // schedule.batch_size)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, schedule.max_lr, epochs=schedule.epochs, steps_per_epoch=steps_per_epoch
        )
        bar = tqdm(total=schedule.epochs * steps_per_epoch, desc=description, unit="batch", disable=not progress)
        for _ in range(schedule.epochs):
            order = torch.randperm(len(labels_N), generator=order_generator)
            for start in range(0, len(order), schedule.batch_size):
                batch = order[start : start + schedule.batch_size]
                if len(batch) < 2:  # batch norm needs two samples; the remainder is skipped
                    continue
                inputs = augment(images_N1HW[batch], augment_generator).to(device)
                loss = nn.functional.cross_entropy(model(inputs), labels_N[batch].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        bar.close()
    return model.eval()


@torch.no_grad()
def predict(
    model: FashionMNISTClassifier, images_N1HW: torch.Tensor, batch_size: int = INFERENCE_BATCH
) -> tuple[torch.Tensor, torch.Tensor]:
    """(penultimate features float64 (N, 128), predicted labels int64 (N,)) on the CPU, in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    features, predictions = [], []
    for start in range(0, len(images_N1HW), batch_size):
        batch_features = model.features(images_N1HW[start : start + batch_size].to(device))
        features.append(batch_features.double().cpu())
        predictions.append(model.head(batch_features).argmax(dim=1).cpu())
    return torch.cat(features), torch.cat(predictions)


def accuracy(model: FashionMNISTClassifier, images_N1HW: torch.Tensor, labels_N: torch.Tensor) -> float:
    """Fraction of images whose predicted label equals the given one."""
    check_labelled_images(images_N1HW, labels_N)
    return (predict(model, images_N1HW)[1] == labels_N).double().mean().item()
