"""`slq lattice-report`: geometry, densities, bounds and quantization quality of every codebook, as CSV, JSON and plots."""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

DEFAULT_OUT = Path("out/lattice-report")
FULL_SAMPLES = 10**6
FULL_DENSE_SAMPLES = 2**14
QUICK_SAMPLES = 2**15
QUICK_DENSE_SAMPLES = 2**12
FIELDS = ("name", "family", "dim", "size", "bits", "bits_per_dim", "delta_min", "max_cosine",
          "exact_max_cosine", "kissing", "neighbours_min", "neighbours_mean", "exact", "lattice",
          "packing_density", "packing_density_exact", "center_density", "center_density_exact",
          "bound_lp", "bound_levenshtein", "bound_max_cosine", "bound_delta_min", "delta_gap",
          "mse", "mean_angle_degrees", "covering_angle_degrees", "quality_samples", "seconds")
PLOTS = ("delta_min_vs_bits.png", "delta_min_vs_bits_per_dim.png", "error_vs_bits_per_dim.png")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lattice-report",
        help="δ_min, bounds, densities and quantization error of all codebooks (the main job)",
        description="For the first shells of D4, E6, E7, E8, K12, BW16 and Λ24, E8 and Λ24 shells "
        "1+2, the products D4⁶, E6⁴, E8³ and K12², BSQ, FSQ projected to the sphere, and 24-D "
        "Fibonacci and random codes: dimension, N, bits, δ_min and max cosine (exact for the "
        "integer codes), kissing numbers, lattice densities, the LP and Levenshtein bounds and "
        "the gap to them, and the mean squared error, mean angle and covering-angle estimate of "
        "uniformly random directions (exact nearest codeword). Prints a table and the theta series "
        "and writes report.csv, report.json and three plots.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--quick", action="store_true",
                        help="skip the codes with 196,560 or more materialized points (and BSQ d=18), "
                        f"and use {QUICK_SAMPLES:,} / {QUICK_DENSE_SAMPLES:,} random directions")
    parser.add_argument("--samples", type=int, default=None,
                        help=f"random directions per code with a structured or small search "
                        f"(default {FULL_SAMPLES:,}; quick {QUICK_SAMPLES:,})")
    parser.add_argument("--dense-samples", type=int, default=None,
                        help=f"random directions for large dense codes (default {FULL_DENSE_SAMPLES:,};"
                        f" quick {QUICK_DENSE_SAMPLES:,})")
    parser.add_argument("--codes", type=lambda text: text.split(","), default=None,
                        help="comma-separated subset of the codebook names (default: all; "
                        "with --quick, all quick ones)")
    parser.set_defaults(func=run)


def _cell(value, width: int, digits: int = 4) -> str:
    if value is None or value == "":
        return f"{'-':>{width}}"
    if isinstance(value, float):
        return f"{value:>{width}.{digits}g}"
    return f"{value!s:>{width}}"


def _format_table(rows: list[dict]) -> str:
    columns = (("name", "codebook", 22), ("dim", "d", 3), ("size", "N", 11), ("bits", "bits", 6),
               ("bits_per_dim", "b/dim", 6), ("delta_min", "δ_min", 7), ("max_cosine", "max cos", 7),
               ("kissing", "kiss", 6), ("neighbours_min", "nbrs", 5), ("packing_density", "Δ", 8), ("bound_max_cosine", "bound", 7),
               ("delta_gap", "δ gap", 7), ("mse", "MSE", 7), ("mean_angle_degrees", "angle°", 7),
               ("covering_angle_degrees", "cover°", 7), ("quality_samples", "samples", 8),
               ("seconds", "sec", 6))
    header = " ".join(f"{title:<{width}}" if key == "name" else f"{title:>{width}}"
                      for key, title, width in columns)
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(" ".join(f"{row[key]:<{width}}" if key == "name" else _cell(row[key], width)
                              for key, _, width in columns))
    return "\n".join(lines)


def _count(value: int | None, default: int, name: str) -> int:
    if value is None:
        return default
    if value < 1:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from experiments.reports import plots
    from experiments.reports.code_rows import SPECS, code_row
    from lattices import zoo

    samples = _count(args.samples, QUICK_SAMPLES if args.quick else FULL_SAMPLES, "--samples")
    dense_samples = _count(args.dense_samples,
                           QUICK_DENSE_SAMPLES if args.quick else FULL_DENSE_SAMPLES, "--dense-samples")
    specs = [spec for spec in SPECS if spec.quick or not args.quick]
    if args.codes is not None:
        unknown = sorted(set(args.codes) - {spec.name for spec in specs})
        if unknown:
            raise ValueError(f"unknown codebook names {unknown}; expected some of "
                             f"{', '.join(spec.name for spec in specs)}")
        specs = [spec for spec in specs if spec.name in args.codes]
    args.out.mkdir(parents=True, exist_ok=True)
    bound_cache: dict = {}
    rows = [code_row(spec, samples, dense_samples, bound_cache)
            for spec in tqdm(specs, desc="codebooks", unit="codebook")]
    theta_series = {zoo.lattice(name).label: zoo.lattice(name).theta_coefficients(8)
                    for name in zoo.NAMES}
    print(_format_table(rows))
    print("theta series (numbers of vectors of each norm, usual scaling):")
    for label, coefficients in theta_series.items():
        print(f"  {label}: " + ", ".join(f"{norm}: {count:,}" for norm, count in coefficients.items()))
    with open(args.out / "report.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    curves = plots.bound_curves()
    report = {"codebooks": rows, "quick": bool(args.quick), "samples": samples,
              "dense_samples": dense_samples, "quality_seed": 0,
              "theta_series": {label: {str(norm): count for norm, count in series.items()}
                               for label, series in theta_series.items()},
              "levenshtein_delta_min_curves": {str(dim): points for dim, points in curves.items()}}
    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False,
                                                     allow_nan=False))
    plots.plot_delta_min_vs_bits(rows, args.out / PLOTS[0])
    plots.plot_delta_min_vs_bits_per_dim(rows, curves, args.out / PLOTS[1])
    plots.plot_error_vs_bits_per_dim(rows, args.out / PLOTS[2])
    print(f"wrote {args.out / 'report.csv'}, report.json and {', '.join(PLOTS)}")
    return 0
