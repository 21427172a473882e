"""Scores of class-conditional Fashion-MNIST samples: FD-FMNIST, class accuracy, precision/recall and CAS.

All four read the project's classifier (`models.metrics.fmnist_classifier`), never Inception, so the
Fréchet distance is FD-FMNIST, not FID. Precision/recall: Kynkäänniemi et al. 2019, arXiv 1904.06991;
Classification Accuracy Score (CAS): Ravuri & Vinyals 2019, arXiv 1905.10887.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from models.data.fashion_mnist import load_fashion_mnist
from models.metrics.fmnist_classifier import NUM_CLASSES, classifier_input, load_classifier
from models.metrics.fmnist_training import CAS_SCHEDULE, accuracy, predict, train_classifier
from models.metrics.frechet import frechet_distance
from models.metrics.precision_recall import precision_recall

# Fewer samples make the 128-d Fréchet distance and the k-NN radii too noisy to compare runs.
MIN_SAMPLES = 10_000
PRECISION_RECALL_K = 3
METRIC_KEYS = ("fd_fmnist", "class_accuracy", "precision", "recall", "cas")


def sample_labels(labels: np.ndarray | torch.Tensor, count: int) -> torch.Tensor:
    """The requested classes as int64 (count,), checked: integers, one per image, within 0-9."""
    labels_t = torch.as_tensor(labels)
    if labels_t.is_floating_point() or labels_t.is_complex() or labels_t.dtype == torch.bool:
        raise TypeError(f"labels must be integers (int64), got dtype {labels_t.dtype}")
    if labels_t.shape != (count,):
        raise ValueError(f"labels must have shape ({count},), one per image, got {tuple(labels_t.shape)}")
    labels_t = labels_t.to(torch.int64)
    if labels_t.min() < 0 or labels_t.max() >= NUM_CLASSES:
        raise ValueError(f"labels must lie in 0-{NUM_CLASSES - 1}, got [{labels_t.min()}, {labels_t.max()}]")
    return labels_t


def evaluate_generation(
    images: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    real_dir: str | Path,
    classifier_path: str | Path | None = None,
    cas: bool = True,
    seed: int = 0,
    device: str | torch.device = "cpu",
    min_samples: int | None = None,
    progress: bool = True,
) -> dict:
    """Metrics of generated `images` (see `classifier_input`) asked to show classes `labels`.

    fd_fmnist: Fréchet distance between the classifier's penultimate features of the samples and of
    the 60,000 training images in `real_dir`. class_accuracy: fraction classified as their requested
    class. precision/recall (k = 3): against as many training images as samples (at most 60,000),
    drawn with `seed`. cas: accuracy on the real 10,000 test images of a fresh classifier trained on
    the samples alone with CAS_SCHEDULE (None when `cas` is False). Refuses fewer than `min_samples`
    (default MIN_SAMPLES) samples.
    """
    min_samples = MIN_SAMPLES if min_samples is None else min_samples
    images_N1HW = classifier_input(images)
    count = len(images_N1HW)
    if count < min_samples:
        raise ValueError(f"got {count} samples, but FD-FMNIST and precision/recall need at least {min_samples}")
    labels_N = sample_labels(labels, count)
    classifier, sha256 = load_classifier(classifier_path, device)
    real_images, real_labels = load_fashion_mnist(real_dir, "train")
    real_features, _ = predict(classifier, classifier_input(real_images))
    features, predictions = predict(classifier, images_N1HW)
    subset_size = min(count, len(real_labels))
    subset = torch.randperm(len(real_labels), generator=torch.Generator().manual_seed(seed))[:subset_size]
    rates = precision_recall(real_features[subset], features, k=PRECISION_RECALL_K, device=device)
    correct = predictions == labels_N
    per_class = [correct[labels_N == label].double().mean().item() if (labels_N == label).any() else None
                 for label in range(NUM_CLASSES)]
    cas_value = None
    if cas:
        test_images, test_labels = load_fashion_mnist(real_dir, "test")
        cas_model = train_classifier(
            images_N1HW, labels_N, CAS_SCHEDULE, seed, device, progress, description="CAS classifier"
        )
        cas_value = accuracy(cas_model, classifier_input(test_images), test_labels)
    return {
        "fd_fmnist": frechet_distance(real_features, features),
        "class_accuracy": correct.double().mean().item(),
        "precision": rates["precision"],
        "recall": rates["recall"],
        "cas": cas_value,
        "num_samples": count,
        "classifier_sha256": sha256,
        "class_accuracy_per_class": per_class,
        "settings": {
            "fd_reference": f"{len(real_labels)} training images of {real_dir}",
            "precision_recall_k": PRECISION_RECALL_K,
            "precision_recall_real_samples": subset_size,
            "cas_schedule": dataclasses.asdict(CAS_SCHEDULE) if cas else None,
            "seed": seed,
            "min_samples": min_samples,
        },
    }
