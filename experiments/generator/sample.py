"""`slq sample`: class-conditional images from a generator checkpoint (KV cache, CFG, top-k/top-p, temperature, seed).

Writes OUT/samples.npz (`images` uint8 (N, 3, 32, 32), `labels` int64 (N,), `indices_<k>` per scale),
one PNG grid per class (OUT/class_<c>.png) and OUT/grid.png (one row per class), and OUT/sampling.json.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from experiments.results_io import write_json


def class_list(text: str) -> list[int]:
    """"0-9", "3", "1,4,7" or "0-2,8" -> sorted unique class indices."""
    classes: set[int] = set()
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            classes.update(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--classes takes ranges like 0-9 or 1,4,7, got {text!r}") from None
    if not classes:
        raise argparse.ArgumentTypeError(f"--classes names no class: {text!r}")
    return sorted(classes)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample", help="sample class-conditional images from a generator checkpoint",
        description="Sample scale by scale with a KV cache and decode with the generator's tokenizer. CFG as in VAR: "
        "logits = (1 + t)·cond − t·uncond with t ramped linearly over the scales up to --cfg (or constant).")
    parser.add_argument("checkpoint", help="generator checkpoint directory or run directory (newest checkpoint)")
    parser.add_argument("--classes", type=class_list, default=list(range(10)), help="e.g. 0-9 (default) or 1,4,7")
    parser.add_argument("--per-class", type=int, default=10, help="images per class (default 10)")
    parser.add_argument("--cfg", type=float, default=0.0, help="guidance strength t ≥ 0 (default 0: none)")
    parser.add_argument("--cfg-schedule", choices=("linear", "constant"), default="linear")
    parser.add_argument("--top-k", type=int, help="keep the k most likely tokens (default: all)")
    parser.add_argument("--top-p", type=float, help="keep the smallest set of tokens with mass ≥ p, p in (0, 1]")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=500, help="images per sampling batch")
    parser.add_argument("--weights", choices=("ema", "model"), default="ema")
    parser.add_argument("--tokenizer", help="tokenizer checkpoint (default: the generator config's data.tokenizer)")
    parser.add_argument("--no-kv-cache", action="store_true", help="recompute all scales at every step (slower)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", required=True, help="output folder")
    parser.set_defaults(func=run)


def check_options(args: argparse.Namespace) -> None:
    """ValueError for options that cannot work, before any model is loaded."""
    import math

    if args.per_class < 1 or args.batch_size < 1:
        raise ValueError("--per-class and --batch-size must be positive")
    if not math.isfinite(args.cfg) or args.cfg < 0:
        raise ValueError(f"--cfg must be a finite number >= 0, got {args.cfg}")
    if args.top_k is not None and args.top_k <= 0:
        raise ValueError(f"--top-k must be positive, got {args.top_k}")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise ValueError(f"--top-p must lie in (0, 1], got {args.top_p}")
    if not math.isfinite(args.temperature) or args.temperature <= 0:
        raise ValueError(f"--temperature must be positive, got {args.temperature}")


def load_generator(checkpoint_path: str, weights: str, tokenizer_override: str | None):
    """(generator in eval mode, the tokenizer it was trained on, its config) from a verified checkpoint."""
    from experiments.generator.config import config_from_mapping
    from experiments.generator.token_cache import tokenizer_identity
    from experiments.generator.train import build_generator
    from experiments.tokenizer.evaluate import load_tokenizer
    from experiments.training.checkpoints import load_checkpoint_config, read_manifest, resolve_checkpoint
    from models.weights_io import load_safetensors_strict

    checkpoint = resolve_checkpoint(checkpoint_path)
    config = config_from_mapping(load_checkpoint_config(checkpoint))
    tokenizer_checkpoint = resolve_checkpoint(tokenizer_override or config.data.tokenizer)
    expected = read_manifest(checkpoint).get("identity", {}).get("tokenizer")
    if tokenizer_identity(tokenizer_checkpoint) != expected:
        raise ValueError(f"tokenizer {tokenizer_checkpoint} is not the one generator {checkpoint} was trained on")
    tokenizer = load_tokenizer(tokenizer_checkpoint, "ema")
    generator = build_generator(config, tokenizer.quantizer)
    load_safetensors_strict(generator, checkpoint / f"{weights}.safetensors", f"checkpoint {weights}")
    return generator.eval(), tokenizer, config


def run(args: argparse.Namespace) -> int:
    check_options(args)
    import numpy as np
    import torch
    from tqdm import tqdm

    from experiments.training.distributed import resolve_device
    from models.data import save_image
    from models.data.image_grid import image_grid
    from models.generator import sample_scales

    generator, tokenizer, config = load_generator(args.checkpoint, args.weights, args.tokenizer)
    if args.classes[-1] >= config.data.num_classes:
        raise ValueError(f"--classes goes up to {args.classes[-1]}, the generator knows {config.data.num_classes}")
    device = resolve_device(args.device)
    generator.to(device)
    tokenizer.to(device)
    labels_N = torch.tensor(args.classes, dtype=torch.int64).repeat_interleave(args.per_class)
    random = torch.Generator(device=device).manual_seed(args.seed)
    images, scales = [], []
    started = time.perf_counter()
    for start in tqdm(range(0, len(labels_N), args.batch_size), desc="sample", unit="batch"):
        class_B = labels_N[start:start + args.batch_size].to(device)
        indices = sample_scales(generator, tokenizer.quantizer, class_B, cfg=args.cfg, cfg_schedule=args.cfg_schedule,
                                temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, generator=random,
                                use_kv_cache=not args.no_kv_cache)
        with torch.no_grad():
            decoded = tokenizer.decode_from_scales(indices).clamp(0, 1)
        images.append(decoded.mul(255).round().to(torch.uint8).cpu())
        scales.append([index_map.cpu() for index_map in indices])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    images_N3HW = torch.cat(images)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    per_scale = {f"indices_{k}": torch.cat([batch[k] for batch in scales]).numpy() for k in range(len(scales[0]))}
    np.savez_compressed(out / "samples.npz", images=images_N3HW.numpy(), labels=labels_N.numpy(), **per_scale)
    rows = [list(images_N3HW[labels_N == c][:10].float().div(255)) for c in args.classes]
    for c, row in zip(args.classes, rows, strict=True):
        save_image(image_grid([row], row_height=64, gap=2), out / f"class_{c}.png")
    save_image(image_grid(rows, row_height=64, gap=2), out / "grid.png")
    write_json(out / "sampling.json", {
        "checkpoint": str(args.checkpoint), "weights": args.weights, "classes": args.classes,
        "per_class": args.per_class, "cfg": args.cfg, "cfg_schedule": args.cfg_schedule, "top_k": args.top_k,
        "top_p": args.top_p, "temperature": args.temperature, "seed": args.seed, "kv_cache": not args.no_kv_cache,
        "images": len(labels_N), "seconds": seconds, "images_per_s": len(labels_N) / seconds, "device": str(device)})
    print(f"sample: {len(labels_N)} images in {seconds:.1f} s ({len(labels_N) / seconds:.1f} images/s) -> {out}",
          file=sys.stderr)
    return 0
