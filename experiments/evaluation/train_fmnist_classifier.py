"""`slq train-fmnist-classifier`: train the Fashion-MNIST classifier behind FD-FMNIST and save its weights."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-fmnist-classifier",
        help="train the Fashion-MNIST classifier used by eval-generation (deterministic given the seed)",
        description="Train the project's Fashion-MNIST CNN on the 60,000 training images of --data, "
        "print its accuracy on the 10,000 test images, and write the weights (safetensors) with their "
        "sha256 in FILE.sha256 beside them. The same seed, device and thread count give the same bytes.",
    )
    parser.add_argument("--data", required=True, type=Path, help="Fashion-MNIST idx folder (train and t10k files)")
    parser.add_argument("--out", required=True, type=Path, help="weights file to write (.safetensors)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: the evaluator schedule's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of initial weights, batch order, augmentation")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from models.data.fashion_mnist import load_fashion_mnist
    from models.metrics.fmnist_classifier import classifier_input, save_classifier
    from models.metrics.fmnist_training import EVALUATOR_SCHEDULE, accuracy, train_classifier

    if args.out.suffix != ".safetensors":
        raise ValueError(f"--out must end in .safetensors, got {args.out}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {args.device} was asked for, but CUDA is not available; use --device cpu")
    schedule = EVALUATOR_SCHEDULE
    if args.epochs is not None:
        schedule = dataclasses.replace(EVALUATOR_SCHEDULE, epochs=args.epochs)
    train_images, train_labels = load_fashion_mnist(args.data, "train")
    test_images, test_labels = load_fashion_mnist(args.data, "test")
    model = train_classifier(classifier_input(train_images), train_labels, schedule, args.seed, args.device)
    test_accuracy = accuracy(model, classifier_input(test_images), test_labels)
    digest = save_classifier(model.cpu(), args.out)
    print(f"test accuracy {test_accuracy:.4f} ({len(test_labels)} images), {schedule.epochs} epochs, seed {args.seed}")
    print(f"wrote {args.out} sha256 {digest}")
    return 0
