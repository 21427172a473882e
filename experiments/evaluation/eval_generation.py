"""`slq eval-generation`: FD-FMNIST, class accuracy, precision/recall and CAS of class-conditional samples."""
from __future__ import annotations

import argparse
import csv
import json
import math
import zipfile
from pathlib import Path

CSV_COLUMNS = ("samples", "num_samples", "fd_fmnist", "class_accuracy", "precision", "recall", "cas",
               "classifier_sha256")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval-generation",
        help="FD-FMNIST, class accuracy, precision/recall and CAS of class-conditional Fashion-MNIST samples",
        description="Score SAMPLES.npz (arrays `images`: uint8 (N, 28, 28), (N, 32, 32) or (N, C, H, W) with "
        "C = 1 or 3, 32x32 center-cropped to 28x28; `labels`: int64 (N,) requested classes 0-9) with the "
        "project's Fashion-MNIST classifier: FD-FMNIST against the 60,000 training images of --real, "
        "class accuracy, k=3 precision/recall, and CAS (a fresh classifier trained on the samples, tested "
        "on the 10,000 real test images). Needs at least 10,000 samples.",
    )
    parser.add_argument("samples", type=Path, help="npz file with arrays `images` and `labels`")
    parser.add_argument("--real", required=True, type=Path, help="Fashion-MNIST idx folder (train and t10k files)")
    parser.add_argument("--json", required=True, type=Path, help="write the metrics and settings here (strict JSON)")
    parser.add_argument("--csv", type=Path, help="also write one CSV row of the metrics here")
    parser.add_argument("--no-cas", action="store_true", help="skip CAS (it trains a classifier); cas is null")
    parser.add_argument("--classifier", type=Path,
                        help="classifier weights (default: the packaged ones); needs FILE.sha256 beside it")
    parser.add_argument("--seed", type=int, default=0, help="seed of the CAS training and the real subset")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    parser.add_argument("--min-samples", type=int, help=argparse.SUPPRESS)  # lowered by the tests only
    parser.set_defaults(func=run)


def load_samples(path: Path):
    """(images, labels) numpy arrays of a samples npz file, read without pickle."""
    import numpy as np

    if not path.is_file():
        raise FileNotFoundError(f"samples file {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"samples file {path} is not a readable npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = archive.files
            arrays = {key: archive[key] for key in ("images", "labels") if key in names}
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"samples file {path} is not a readable npz file: {error}") from error
    except ValueError as error:  # object arrays (pickle) and malformed members
        raise ValueError(f"samples file {path}: {error}") from error
    missing = [key for key in ("images", "labels") if key not in arrays]
    if missing:
        raise ValueError(f"samples file {path} lacks the array(s) {', '.join(missing)}; it has {names}")
    return arrays["images"], arrays["labels"]


def run(args: argparse.Namespace) -> int:
    import torch

    from models.metrics.fmnist_generation import METRIC_KEYS, evaluate_generation

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {args.device} was asked for, but CUDA is not available; use --device cpu")
    images, labels = load_samples(args.samples)
    results = evaluate_generation(
        images, labels, args.real, args.classifier, cas=not args.no_cas, seed=args.seed, device=args.device,
        min_samples=args.min_samples,
    )
    for key in METRIC_KEYS:  # strict JSON: a non-finite value is written as null
        if results[key] is not None and not math.isfinite(results[key]):
            results[key] = None
        print(f"{key}: {'-' if results[key] is None else f'{results[key]:.4f}'}")
    document = {"samples": str(args.samples), "real": str(args.real), **results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with args.csv.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerow({key: "" if document[key] is None else document[key] for key in CSV_COLUMNS})
    return 0
