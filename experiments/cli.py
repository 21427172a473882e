"""The `slq` console command: one argparse parser whose subcommands are imported only when chosen."""
from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import PackageNotFoundError, version

# name -> (module, one-line help). Each module defines `register(subparsers)`, which adds the
# subcommand's full parser (setting `func`, called with the parsed namespace). Only the chosen
# subcommand's module is imported, so `slq --help` and light commands never load torch.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "lattice-report": ("experiments.reports.lattice_report",
                       "δ_min, max cosine, neighbours and densities of all codebooks (the main job)"),
    "train-tokenizer": ("experiments.tokenizer.train", "train the ViT tokenizer (single device or torchrun DDP)"),
    "eval-tokenizer": ("experiments.tokenizer.evaluate",
                       "reconstruction metrics of a tokenizer checkpoint on an image folder (e.g. Kodak)"),
    "tokenize": ("experiments.generator.token_cache",
                 "tokenize Fashion-MNIST once with a multi-scale tokenizer (the generator's training data)"),
    "train-generator": ("experiments.generator.train",
                        "train the class-conditional next-scale generator on a token cache"),
    "sample": ("experiments.generator.sample", "sample class-conditional images from a generator checkpoint"),
    "eval": ("experiments.evaluation.images",
             "PSNR, SSIM, MS-SSIM, LPIPS and FD-VGG16 of reconstructions against references"),
    "train-fmnist-classifier": ("experiments.evaluation.train_fmnist_classifier",
                                "train the Fashion-MNIST classifier behind FD-FMNIST (deterministic)"),
    "eval-generation": ("experiments.evaluation.eval_generation",
                        "FD-FMNIST, class accuracy, precision/recall and CAS of class-conditional samples"),
    "ablation-report": ("experiments.reports.ablation_report",
                        "table, CSV/JSON and loss curves (PNG) from several tokenizer runs"),
    "posthoc-geometry": ("experiments.reports.posthoc_geometry",
                         "quantize a continuous tokenizer's latents post hoc with each code (geometry alone)"),
    "bench-lattices": ("experiments.bench.lattices", "time lattice enumeration, theta series and exact δ_min"),
    "bench-decoders": ("experiments.bench.decoders",
                       "time the E8 and Λ24 nearest-point decoders against numpy baselines"),
    "bench-search": ("experiments.bench.search",
                     "time the exact structured Λ24 nearest-minimal search against dense searches"),
    "bench-quantizers": ("experiments.bench.quantizers",
                         "time forward+backward of leech24, bsq (d=18) and a dense vq (196,560 codes)"),
    "bench-generator": ("experiments.bench.generator",
                        "time the fused 196,560-way loss path against naive logits, and KV-cache sampling"),
}


def package_version() -> str:
    try:
        return version("spherical-lattice-quantization")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The `slq` parser; the full parser of subcommand `chosen` (all of them when None is given)."""
    parser = argparse.ArgumentParser(
        prog="slq",
        description="Lattice-based spherical quantization: lattice tables, quantizer benchmarks, tokenizer "
        "and generator training, evaluation and compression.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        if chosen is None or name == chosen:
            importlib.import_module(module_name).register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((word for word in argv if not word.startswith("-")), "")
    args = build_parser(chosen if chosen in SUBCOMMANDS else "").parse_args(argv)
    try:
        result = args.func(args)
    except (ValueError, TypeError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
            PermissionError) as error:
        print(f"slq {args.command}: error: {error}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
