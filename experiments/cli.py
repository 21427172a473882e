"""The `slq` console command: one argparse parser with a subcommand per experiment module."""
from __future__ import annotations

import argparse
import importlib
import sys

# Each module named here defines `register(subparsers)`, which adds one subcommand whose
# parser sets `func` (called with the parsed namespace). Modules keep heavy imports
# (torch, numba) inside their functions so that `slq --help` stays fast.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "experiments.lattice_report",
    "experiments.bench_lattices",
    "experiments.eval_images",
    "experiments.bench_decoders",
    "experiments.bench_search",
    "experiments.bench_quantizers",
    "experiments.train_tokenizer",
    "experiments.eval_tokenizer",
    "experiments.ablation_report",
    "experiments.evaluation.train_fmnist_classifier",
    "experiments.evaluation.eval_generation",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slq",
        description="Lattice-based spherical quantization: lattice tables, quantizer "
        "benchmarks, tokenizer training and evaluation.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"slq {args.command}: error: {error}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
