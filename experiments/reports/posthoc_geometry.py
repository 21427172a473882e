"""`slq posthoc-geometry`: quantize a continuous tokenizer's latents post hoc with each code; image metrics and latent error per code."""
from __future__ import annotations

import argparse
import csv
import json
import sys
import warnings
from pathlib import Path

CONTINUOUS = "continuous"
# [LABEL=]NAME[:{yaml options}]: the 24-D codes at Λ24's 17.585 bits (E8³ at 23.7), BSQ and FSQ at matched bits
DEFAULT_CODE_SPECS = (
    "leech24=leech24",
    "random=random:{codebook_size: 196560, dim: 24}",
    "fibonacci=fibonacci:{codebook_size: 196560, dim: 24}",
    "e8x3=e8:{dim: 24}",
    "bsq18=bsq:{dim: 18}",
    "fsq=fsq:{levels: [8, 8, 8, 8, 8, 6]}",
)
PLOTTED = (("psnr", "PSNR (dB) ↑"), ("ssim", "SSIM ↑"), ("latent_angle_deg", "mean latent angle (°) ↓"))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "posthoc-geometry",
        help="quantize a continuous tokenizer's latents post hoc with each code (geometry without training noise)",
        description="Load the tokenizer of RUN_DIR (trained with L2-normalized latents, e.g. the `identity` "
        "quantizer of configs/fidelity-continuous.yaml), encode the center crops of --data once, quantize the "
        "latents with each code of --codes, decode, and report PSNR, SSIM, MS-SSIM, LPIPS, the latent "
        "quantization error (mean squared error per coordinate, mean angle) and the codes used, plus the "
        "unquantized ('continuous') reference. Codes of lower dimension than the latent see a fixed orthogonal "
        "projection (experiments/reports/latent_codes.py). Writes posthoc.csv, posthoc.json and posthoc.png.",
    )
    parser.add_argument("run_dir", help="run or checkpoint directory of the continuous tokenizer")
    parser.add_argument("--data", required=True, help="folder of PNG/JPEG images (e.g. Kodak)")
    parser.add_argument("--crop", type=int, default=256, help="center-crop side in pixels (default 256)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--codes", nargs="+", default=list(DEFAULT_CODE_SPECS), metavar="SPEC",
                        help="codes as [LABEL=]NAME[:{yaml options}] for quantizers.build, e.g. 'e8x3=e8:{dim: 24}' "
                        "(default: " + " ".join(DEFAULT_CODE_SPECS) + ")")
    parser.add_argument("--weights", choices=("ema", "model"), default="ema", help="checkpoint weights (default ema)")
    parser.add_argument("--lpips-nets", default="alex", help="comma-separated LPIPS trunks (default alex)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per batch (default 8)")
    parser.add_argument("--max-images", type=int, help="only the first N images (sorted by path)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from experiments.reports.latent_codes import LatentCode, parse_code_spec
    from experiments.tokenizer.evaluate import load_tokenizer
    from experiments.training.checkpoints import load_trainer_state, resolve_checkpoint
    from experiments.training.distributed import resolve_device
    from models.data import ImageFolderDataset, list_image_files
    from models.metrics.image_metrics import ImageMetrics

    if args.crop < 1 or args.batch_size < 1 or (args.max_images is not None and args.max_images < 1):
        raise ValueError("--crop, --batch-size and --max-images must be positive")
    specs = [parse_code_spec(text) for text in args.codes]
    labels = [CONTINUOUS] + [spec.label for spec in specs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"code labels must be distinct (and not {CONTINUOUS!r}), got {labels[1:]}")
    lpips_nets = tuple(net.strip() for net in args.lpips_nets.split(",") if net.strip())
    checkpoint = resolve_checkpoint(args.run_dir)
    step = int(load_trainer_state(checkpoint)["step"])
    tokenizer = load_tokenizer(checkpoint, args.weights)
    config = tokenizer.config
    if config.latent_norm != "l2":
        raise ValueError(f"{checkpoint} has latent_norm {config.latent_norm!r}: post-hoc spherical codes need 'l2'")
    if args.crop % config.patch_size:
        raise ValueError(f"--crop {args.crop} is not a multiple of the model's patch size {config.patch_size}")
    codes = {spec.label: LatentCode(spec.build(), config.latent_dim) for spec in specs}  # bad options fail here

    device = resolve_device(args.device)
    tokenizer.to(device)
    files = list_image_files(args.data)[:args.max_images]
    dataset = ImageFolderDataset(args.data, train=False, crop_size=args.crop, files=files)
    with torch.no_grad():
        batches = [(images, tokenizer.encode(images.to(device))[0])
                   for images in tqdm(DataLoader(dataset, batch_size=args.batch_size), desc="encode", leave=False)]
    metrics = ImageMetrics(device, lpips_nets, fd_vgg16=False)
    rows, messages = [], []
    for label in tqdm(labels, desc="codes"):
        code = codes.get(label)
        if code is not None:
            code.to(device)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            row = _evaluate_code(tokenizer, code, batches, metrics, dataset.names)
        messages += [str(warning.message) for warning in caught]
        rows.append({"code": label, **_describe(code, specs, label), **row})
    document = {"checkpoint": str(checkpoint), "step": step, "weights": args.weights, "data": str(args.data),
                "crop": args.crop, "images": len(dataset), "trained_quantizer": config.quantizer,
                "latent_dim": config.latent_dim, "rows": rows, "warnings": list(dict.fromkeys(messages))}
    _write(args.out, document, lpips_nets)
    for row in rows:
        print(f"{row['code']:<14} PSNR {row['psnr']:6.2f}  SSIM {row['ssim']:.3f}  "
              + "  ".join(f"LPIPS-{net} {row[f'lpips_{net}']:.3f}" for net in lpips_nets)
              + f"  angle {row['latent_angle_deg']:5.2f}°")
    for message in document["warnings"]:
        print(f"posthoc-geometry: warning: {message}", file=sys.stderr)
    print(f"posthoc-geometry: wrote {args.out}/posthoc.csv, posthoc.json, posthoc.png")
    return 0


def _evaluate_code(tokenizer, code, batches, metrics, names) -> dict:
    """Image metrics, latent error and codes used of one code (None: the unquantized latent)."""
    import torch

    from experiments.reports.latent_codes import quantization_errors

    metrics.reset()
    squared = angles = torch.zeros((), dtype=torch.float64)
    indices = []
    with torch.no_grad():
        for images, latent_BhwD in batches:
            u_ND = latent_BhwD.reshape(-1, latent_BhwD.shape[-1])
            decoded_ND, indices_N = (u_ND, None) if code is None else code.quantize(u_ND)
            error, angle = quantization_errors(u_ND, decoded_ND)
            squared, angles = squared + error.cpu(), angles + angle.cpu()
            if indices_N is not None:
                indices.append(indices_N.reshape(-1).cpu())
            recon = tokenizer.decode(decoded_ND.reshape(latent_BhwD.shape)).float().clamp(0.0, 1.0)
            done = len(metrics.per_image)
            metrics.update(recon, images.to(recon.device), names[done:done + len(images)])
        results = metrics.compute()
    tokens = sum(latent.shape[0] * latent.shape[1] * latent.shape[2] for _, latent in batches)
    latent_dim = batches[0][1].shape[-1]
    return {
        **{key: value for key, value in results.items() if key not in ("per_image", "num_images")},
        "latent_mse": float(squared) / (tokens * latent_dim),
        "latent_angle_deg": float(angles) / tokens,
        "codes_used": len(torch.unique(torch.cat(indices))) if indices else None,
        "tokens": tokens,
    }


def _describe(code, specs, label) -> dict:
    """Quantizer name, options, dimension, bits and whether the code saw a projection."""
    if code is None:
        return {"quantizer": None, "options": None, "code_dim": None, "bits": None, "codebook_size": None,
                "projected": False}
    spec = next(spec for spec in specs if spec.label == label)
    quantizer = code.quantizer
    return {"quantizer": spec.name, "options": json.dumps(spec.options, sort_keys=True), "code_dim": quantizer.dim,
            "bits": quantizer.bits, "codebook_size": quantizer.codebook_size,
            "projected": code.projection_dD is not None}


def _write(out: Path, document: dict, lpips_nets: tuple[str, ...]) -> None:
    """posthoc.json (strict JSON), posthoc.csv (one row per code) and posthoc.png (bars per metric)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    rows = document["rows"]
    (out / "posthoc.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    with (out / "posthoc.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    panels = [*PLOTTED[:2], *((f"lpips_{net}", f"LPIPS-{net} ↓") for net in lpips_nets), PLOTTED[2]]
    figure, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), squeeze=False)
    colors = plt.get_cmap("tab10").colors
    for axis, (key, title) in zip(axes[0], panels, strict=True):
        for position, row in enumerate(rows):
            bars = axis.bar(position, row[key], color=colors[position % len(colors)], label=row["code"])
            axis.bar_label(bars, fmt="%.3g", fontsize=8)
        axis.set_title(title)
        axis.set_xticks([])
    handles, legend_labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, legend_labels, loc="lower center", ncol=min(len(rows), 7))
    figure.suptitle(f"Post-hoc quantization of a continuous tokenizer's latents ({document['images']} images, "
                    f"crop {document['crop']}, step {document['step']})")
    figure.tight_layout(rect=(0, 0.1, 1, 0.95))
    figure.savefig(out / "posthoc.png", dpi=120)
    plt.close(figure)
