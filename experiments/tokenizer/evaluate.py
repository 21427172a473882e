"""`slq eval-tokenizer`: reconstruct an image folder with a trained tokenizer checkpoint and report the metrics."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.results_io import strict_json, write_csv, write_json

FULL = "full"


def _crop(text: str) -> str | int:
    if text == FULL:
        return FULL
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--crop must be '{FULL}' or a positive integer, got {text!r}") from None
    if size < 1:
        raise argparse.ArgumentTypeError(f"--crop must be positive, got {size}")
    return size


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval-tokenizer",
        help="reconstruction metrics of a tokenizer checkpoint on an image folder (e.g. Kodak)",
        description="Rebuild the tokenizer from the config stored in its checkpoint, reconstruct the images "
        "of --data (center crops or full size) and report PSNR, SSIM, MS-SSIM, LPIPS (alex, vgg), FD-VGG16, "
        "bits per pixel (fixed-length and empirical entropy) and codebook usage as JSON and CSV, plus a "
        "grid of originals and reconstructions as PNG.",
    )
    parser.add_argument("checkpoint", help="checkpoint directory, or a run directory (its newest checkpoint)")
    parser.add_argument("--data", required=True, help="folder of PNG/JPEG images (searched recursively)")
    parser.add_argument("--crop", type=_crop, default=256,
                        help="center-crop side in pixels, or 'full' for whole images (trimmed to multiples "
                        "of the patch size); default 256")
    parser.add_argument("--out", help="output folder (default: CHECKPOINT/eval-CROP)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    parser.add_argument("--weights", choices=("ema", "model"), default="ema",
                        help="which weights of the checkpoint to evaluate (default ema)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per batch for crops (full: 1)")
    parser.add_argument("--max-images", type=int, help="evaluate only the first N images (sorted by path)")
    parser.add_argument("--grid-images", type=int, default=8, help="image pairs in the reconstruction grid")
    parser.add_argument("--lpips-nets", default="alex,vgg", help="comma-separated LPIPS trunks (default alex,vgg)")
    parser.add_argument("--no-fd", action="store_true", help="skip FD-VGG16 and the VGG16 precision/recall")
    parser.add_argument("--save-images", action="store_true",
                        help="also write every reconstruction to OUT/recon/ and its reference to OUT/ref/ as PNG "
                        "(lossless; `slq eval --recon OUT/recon --ref OUT/ref` recomputes any metric later)")
    parser.set_defaults(func=run)


def load_tokenizer(checkpoint: str | Path, weights: str = "ema"):
    """The tokenizer of a verified checkpoint (or a run directory's newest), rebuilt from its config.yaml,
    with `weights` ("ema"/"model"), in eval mode."""
    from experiments.training.checkpoints import load_checkpoint_config, resolve_checkpoint
    from experiments.training.config_io import from_mapping
    from models.tokenizer import Tokenizer, TokenizerConfig, with_preset_defaults
    from models.weights_io import load_safetensors_strict

    if weights not in ("ema", "model"):
        raise ValueError(f"weights must be 'ema' or 'model', got {weights!r}")
    checkpoint = resolve_checkpoint(checkpoint)
    mapping = load_checkpoint_config(checkpoint)
    if not isinstance(mapping.get("model"), dict):
        raise ValueError(f"{checkpoint}/config.yaml has no 'model' section: not a tokenizer checkpoint")
    config = from_mapping(TokenizerConfig, with_preset_defaults(mapping["model"]), "model")
    tokenizer = Tokenizer(config)
    load_safetensors_strict(tokenizer, checkpoint / f"{weights}.safetensors", f"checkpoint {weights}")
    return tokenizer.eval()


def check_image_sizes(files: list[Path], patch: int, crop: int | None) -> None:
    """Before any work: full images must hold one patch; images smaller than the crop are upsampled (warned)."""
    from models.data.image_files import image_size

    sizes = {path: image_size(path) for path in files}
    if crop is None:
        small = [path.name for path, (height, width) in sizes.items() if height < patch or width < patch]
        if small:
            raise ValueError(f"{len(small)} image(s) are smaller than one {patch}x{patch} patch ({', '.join(small[:5])}); "
                             "use --crop with a size the images have")
    else:
        small = [path.name for path, (height, width) in sizes.items() if min(height, width) < crop]
        if small:
            print(f"eval-tokenizer: warning: {len(small)} image(s) have a side below --crop {crop} and are upsampled "
                  f"before cropping ({', '.join(small[:5])}); their metrics measure the upsampled image",
                  file=sys.stderr)


def write_reports(out: Path, document: dict, per_image: list[dict]) -> None:
    """metrics.json (everything), metrics.csv (one row: header and summary), per_image.csv."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", {**document, "per_image": per_image})
    flat = {key: value for key, value in document.items() if key not in ("metrics", "warnings")} | document["metrics"]
    write_csv(out / "metrics.csv", [flat])
    write_csv(out / "per_image.csv", per_image)


def run(args: argparse.Namespace) -> int:
    import math

    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from experiments.training.distributed import resolve_device
    from experiments.training.checkpoints import load_trainer_state, resolve_checkpoint
    from experiments.tokenizer.reconstruction_metrics import ReconstructionMetrics
    from models.data import ImageFolderDataset, list_image_files, save_image, trim_to_patch
    from models.data.image_grid import image_grid

    if args.batch_size < 1 or (args.max_images is not None and args.max_images < 1) or args.grid_images < 0:
        raise ValueError("--batch-size and --max-images must be positive and --grid-images non-negative")
    checkpoint = resolve_checkpoint(args.checkpoint)
    step = int(load_trainer_state(checkpoint)["step"])
    tokenizer = load_tokenizer(checkpoint, args.weights)
    patch = tokenizer.config.patch_size
    if args.crop != FULL and args.crop % patch:
        raise ValueError(f"--crop {args.crop} is not a multiple of the model's patch size {patch}")
    files = list_image_files(args.data)[:args.max_images]
    full = args.crop == FULL
    check_image_sizes(files, patch, None if full else args.crop)
    dataset = ImageFolderDataset(args.data, train=False, crop_size=None if full else args.crop, files=files)
    device = resolve_device(args.device)
    tokenizer.to(device)
    batches = (trim_to_patch(image, patch)[None] for image in dataset) if full else \
        DataLoader(dataset, batch_size=args.batch_size)
    batches = tqdm(batches, total=len(dataset) if full else math.ceil(len(dataset) / args.batch_size),
                   desc="eval-tokenizer", unit="batch", file=sys.stderr)
    lpips_nets = tuple(net.strip() for net in args.lpips_nets.split(",") if net.strip())
    metrics = ReconstructionMetrics(device, lpips_nets, frechet=not args.no_fd)
    out = Path(args.out) if args.out else checkpoint / f"eval-{args.crop}"

    def save_pairs(recon, reference, names) -> None:
        for name, recon_image, reference_image in zip(names, recon, reference, strict=True):
            stem = Path(name).with_suffix(".png")
            save_image(recon_image.cpu(), out / "recon" / stem)
            save_image(reference_image.cpu(), out / "ref" / stem)

    result = metrics.evaluate(tokenizer, batches, dataset.names, keep_pairs=args.grid_images,
                              image_sink=save_pairs if args.save_images else None)
    quantizer = tokenizer.quantizer
    document = {"checkpoint": str(checkpoint), "step": step, "weights": args.weights, "data": str(args.data),
                "crop": args.crop, "quantizer": tokenizer.config.quantizer, "codebook_size": quantizer.codebook_size,
                "bits_per_token": quantizer.bits, "metrics": result.summary, "warnings": result.warnings}
    write_reports(out, document, result.per_image)
    if result.pairs:
        row_height = min(256, *(reference.shape[1] for reference, _ in result.pairs))
        save_image(image_grid(result.pairs, row_height=row_height), out / "reconstructions.png")
    for message in result.warnings:
        print(f"eval-tokenizer: warning: {message}", file=sys.stderr)
    print(strict_json(document["metrics"], indent=2))
    print(f"eval-tokenizer: wrote {out}/metrics.json, metrics.csv, per_image.csv"
          + (", reconstructions.png" if result.pairs else ""), file=sys.stderr)
    return 0
