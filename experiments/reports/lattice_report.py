"""`slq lattice-report`: δ_min, max cosine, neighbours and densities of every codebook, as CSV, JSON and a plot."""
from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

DEFAULT_OUT = Path("out/lattice-report")
QUICK_MAX_SIZE = 2**16
CODEBOOK_NAMES = (
    "leech",
    "e8-roots",
    "e8-shells12",
    "bsq-16",
    "bsq-18",
    "fibonacci-n16384-d24",
    "random-n16384-d24",
    "fibonacci-n196560-d24",
    "random-n196560-d24",
)
SIZES = {"leech": 196_560, "e8-roots": 240, "e8-shells12": 2_400, "bsq-16": 2**16,
         "bsq-18": 2**18, "fibonacci-n16384-d24": 2**14, "random-n16384-d24": 2**14,
         "fibonacci-n196560-d24": 196_560, "random-n196560-d24": 196_560}
FIELDS = ("name", "dim", "size", "bits", "delta_min", "max_cosine", "exact_max_cosine",
          "neighbours_min", "neighbours_mean", "exact", "lattice", "packing_density",
          "packing_density_exact", "center_density", "center_density_exact", "seconds")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lattice-report",
        help="δ_min, max cosine, neighbours and densities of all codebooks (the main job)",
        description="Builds the Λ24 first shell, the E8 roots and shells 1+2, BSQ d=16/18 and "
        "24-D spherical Fibonacci and random Gaussian codes with 2^14 and 196,560 points, "
        "computes δ_min, max cosine and neighbours per point over all pairs (exact integer "
        "arithmetic for the integral codes), lattice packing and center densities, and the first "
        "theta-series coefficients of E8 and Λ24; prints a table and writes report.csv, "
        "report.json and delta_min_vs_bits.png.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--quick", action="store_true",
                        help=f"only codebooks with at most {QUICK_MAX_SIZE:,} points")
    parser.set_defaults(func=run)


def _lattice_of(name: str):
    """(lattice label, integer generator, minimal norm) of the lattice a codebook comes from."""
    from lattices import e8, leech

    if name == "leech":
        return "Λ24", leech.generator_matrix(), leech.MIN_NORM
    if name.startswith("e8-"):
        return "E8", e8.generator_matrix(), e8.ROOT_NORM
    return None


def _row(name: str) -> dict:
    from lattices import density, metrics, spherical

    start = time.perf_counter()
    codebook = spherical.by_name(name)
    stats = metrics.codebook_statistics(codebook, progress=True)
    row = {
        "name": name, "dim": codebook.dim, "size": codebook.size, "bits": codebook.bits,
        "delta_min": stats.delta_min, "max_cosine": stats.max_cosine,
        "exact_max_cosine": str(stats.exact_max_cosine) if stats.exact else "",
        "neighbours_min": stats.min_neighbours, "neighbours_mean": stats.mean_neighbours,
        "exact": stats.exact, "lattice": "", "packing_density": None,
        "packing_density_exact": "", "center_density": None, "center_density_exact": "",
    }
    lattice = _lattice_of(name)
    if lattice is not None:
        label, generator, min_norm = lattice
        densities = density.lattice_densities(generator @ generator.T, min_norm)
        row.update(lattice=label, packing_density=densities.packing_float,
                   packing_density_exact=str(densities.packing),
                   center_density=densities.center_float, center_density_exact=str(densities.center))
    row["seconds"] = time.perf_counter() - start
    return row


def _format_table(rows: list[dict]) -> str:
    header = f"{'codebook':<22} {'dim':>3} {'N':>8} {'bits':>6} {'δ_min':>9} {'max cos':>9} " \
             f"{'nbrs min':>8} {'nbrs mean':>10} {'exact':>5} {'packing Δ':>10} {'seconds':>8}"
    lines = [header, "-" * len(header)]
    for row in rows:
        packing = f"{row['packing_density']:.6g}" if row["packing_density"] is not None else "-"
        lines.append(
            f"{row['name']:<22} {row['dim']:>3} {row['size']:>8} {row['bits']:>6.2f} "
            f"{row['delta_min']:>9.6f} {row['max_cosine']:>9.6f} {row['neighbours_min']:>8} "
            f"{row['neighbours_mean']:>10.4g} {'yes' if row['exact'] else 'no':>5} "
            f"{packing:>10} {row['seconds']:>8.1f}")
    return "\n".join(lines)


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5.5))
    for row in rows:
        marker = "*" if row["lattice"] else ("s" if row["exact"] else "o")
        axes.scatter(row["bits"], row["delta_min"], marker=marker, s=90 if marker == "*" else 45)
        axes.annotate(f"{row['name']} (d={row['dim']})", (row["bits"], row["delta_min"]),
                      textcoords="offset points", xytext=(6, 4), fontsize=8)
    axes.set_xlabel("bits per token (log₂ N)")
    axes.set_ylabel("δ_min (minimum distance on the unit sphere)")
    axes.set_title("Spherical codebooks: minimum distance against rate")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=130)
    plt.close(figure)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lattices import theta

    names = [name for name in CODEBOOK_NAMES if not args.quick or SIZES[name] <= QUICK_MAX_SIZE]
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in tqdm(names, desc="codebooks", unit="codebook"):
        rows.append(_row(name))
    theta_series = {"E8": theta.e8_theta(4), "Λ24": theta.leech_theta(4)}
    print(_format_table(rows))
    print("theta series (numbers of vectors of norm 0, 2, 4, 6):")
    for label, coefficients in theta_series.items():
        print(f"  {label}: {', '.join(f'{c:,}' for c in coefficients)}")
    with open(args.out / "report.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    report = {"codebooks": rows, "theta_series": theta_series,
              "theta_norms": [0, 2, 4, 6], "quick": bool(args.quick)}
    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    _plot(rows, args.out / "delta_min_vs_bits.png")
    print(f"wrote {args.out / 'report.csv'}, report.json and delta_min_vs_bits.png")
    return 0
