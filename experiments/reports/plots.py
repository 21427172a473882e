"""The plots of `slq lattice-report`: δ_min against rate (with bound curves), and mean quantization error against rate."""
from __future__ import annotations

from pathlib import Path

import numpy as np

BOUND_CURVE_DIMS = (4, 8, 12, 16, 24)
BOUND_CURVE_BITS_PER_DIM = np.linspace(0.25, 2.5, 19)
MARKERS = {"lattice shells": "*", "lattice shells 1+2": "P", "lattice products (24-D)": "D",
           "BSQ": "s", "FSQ → sphere (24-D)": "v", "Fibonacci (24-D)": "o", "Random (24-D)": "^"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _family_legend(axes, families):
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="", marker=MARKERS[family], color="black", label=family)
               for family in families]
    return axes.legend(handles=handles, title="marker: family", loc="upper left", fontsize=7,
                       title_fontsize=8, bbox_to_anchor=(1.01, 1.0))


def _finish(plt, figure, axes, path: Path, xlabel: str, ylabel: str, title: str) -> None:
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, alpha=0.3, which="both")
    figure.tight_layout()
    figure.savefig(path, dpi=130)
    plt.close(figure)


def plot_delta_min_vs_bits(rows: list[dict], path: Path) -> None:
    """δ_min against bits per token: one coloured mark per code (legend, no labels on the axes),
    marker shape by family (second legend)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(11, 6))
    colours = plt.colormaps["tab20"].resampled(max(len(rows), 1))
    shown = [row for row in rows if row["delta_min"] is not None]
    for index, row in enumerate(shown):
        axes.scatter(row["bits"], row["delta_min"], marker=MARKERS[row["family"]], s=70,
                     color=colours(index), edgecolor="black", linewidth=0.4,
                     label=f"{row['name']} (d={row['dim']})")
    family_legend = _family_legend(axes, sorted({row["family"] for row in shown}))
    axes.add_artist(family_legend)
    axes.legend(title="code", loc="lower left", fontsize=7, title_fontsize=8, ncol=1,
                bbox_to_anchor=(1.01, 0.0))
    _finish(plt, figure, axes, path, "bits per token (log₂ N)",
            "δ_min (minimum distance on the unit sphere)",
            "Spherical codes: minimum distance against rate")


def bound_curves() -> dict[int, list[tuple[float, float]]]:
    """Levenshtein upper bounds on δ_min: {dim: [(bits per dim, δ_min bound), ...]}."""
    from lattices.bounds import max_cosine_lower_bound

    curves = {}
    for dim in BOUND_CURVE_DIMS:
        points = []
        for rate in BOUND_CURVE_BITS_PER_DIM:
            size = int(round(2 ** (rate * dim)))
            if size < 2:
                continue
            try:
                cosine = max_cosine_lower_bound(dim, size, "levenshtein")
            except ValueError:
                continue
            points.append((float(np.log2(size) / dim), float(np.sqrt(2 - 2 * cosine))))
        curves[dim] = points
    return curves


def plot_delta_min_vs_bits_per_dim(rows: list[dict], curves: dict, path: Path) -> None:
    """δ_min against bits per dimension, with the Levenshtein bound curve of each dimension and
    each code's best bound (LP or Levenshtein) as a grey bar above it."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(11, 6))
    palette = plt.colormaps["viridis"].resampled(len(curves))
    for index, (dim, points) in enumerate(sorted(curves.items())):
        if points:
            rate, delta = zip(*points)
            axes.plot(rate, delta, color=palette(index), linewidth=1.2,
                      label=f"Levenshtein bound, d={dim}")
    shown = [row for row in rows if row["delta_min"] is not None]
    colours = plt.colormaps["tab20"].resampled(max(len(shown), 1))
    for index, row in enumerate(shown):
        axes.scatter(row["bits_per_dim"], row["delta_min"], marker=MARKERS[row["family"]], s=60,
                     color=colours(index), edgecolor="black", linewidth=0.4,
                     label=f"{row['name']} (d={row['dim']})")
        if row["bound_delta_min"] is not None:
            axes.vlines(row["bits_per_dim"], row["delta_min"], row["bound_delta_min"],
                        color="grey", linewidth=0.8, alpha=0.7)
    axes.add_artist(_family_legend(axes, sorted({row["family"] for row in shown})))
    axes.legend(loc="lower left", fontsize=6, ncol=1, bbox_to_anchor=(1.01, 0.0),
                title="curves and codes (grey bar: gap to the best LP/Levenshtein bound)",
                title_fontsize=7)
    _finish(plt, figure, axes, path, "bits per dimension (log₂ N / d)", "δ_min",
            "Minimum distance against rate, with upper bounds")


def plot_error_vs_bits_per_dim(rows: list[dict], path: Path) -> None:
    """Mean squared quantization error of uniform directions against bits per dimension, one line
    per family (points sorted by rate)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(10, 6))
    families = sorted({row["family"] for row in rows if row["mse"] is not None})
    for family in families:
        members = sorted((row for row in rows if row["family"] == family and row["mse"] is not None),
                         key=lambda row: row["bits_per_dim"])
        axes.plot([row["bits_per_dim"] for row in members], [row["mse"] for row in members],
                  marker=MARKERS[family], label=family)
    axes.set_yscale("log")
    axes.legend(fontsize=8)
    _finish(plt, figure, axes, path, "bits per dimension (log₂ N / d)",
            "mean ‖u − c(u)‖² over uniform directions u",
            "Quantization error of uniformly random directions")
