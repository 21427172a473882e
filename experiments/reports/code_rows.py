"""Rows of `slq lattice-report`: geometry, lattice densities, bounds and quantization quality of every code."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction

D24 = 24
LEECH_SHELLS12_SIZE = 196_560 + 16_773_120
DENSE_WORK_LIMIT = 10**5  # component N·dim above which the dense search gets `dense_samples`


@dataclass(frozen=True)
class CodeSpec:
    """One report row: `kind` says how it is built and measured."""

    name: str
    family: str
    kind: str  # "codebook", "zoo-shell", "product", "grid", "leech-shells12"
    quick: bool
    lattice: str = ""  # zoo lattice name for shells and products
    groups: int = 1
    levels: int = 0  # grid codes
    dim: int = 0  # grid codes


def _specs() -> tuple[CodeSpec, ...]:
    shells = [CodeSpec(f"{name}-shell1", "lattice shells", "zoo-shell", True, lattice=name)
              for name in ("d4", "e6", "e7", "k12", "bw16")]
    products = [CodeSpec(f"{code}^{groups}", "lattice products (24-D)", "product", True,
                         lattice=lattice, groups=groups)
                for lattice, code, groups in (("d4", "d4-shell1", 6), ("e6", "e6-shell1", 4),
                                              ("e8", "e8-roots", 3), ("k12", "k12-shell1", 2))]
    float_codes = [CodeSpec(f"{family}-n{n}-d24", f"{family.capitalize()} (24-D)", "codebook",
                            n <= 2**16)
                   for family in ("fibonacci", "random") for n in (2**8, 2**12, 2**14, 196_560)]
    grids = [CodeSpec(f"bsq-{d}", "BSQ", "grid", d <= 16, levels=2, dim=d) for d in (16, 18, 24)]
    grids += [CodeSpec(f"fsq-l{levels}-d24", "FSQ → sphere (24-D)", "grid", True, levels=levels,
                       dim=D24) for levels in (3, 5)]
    return (
        CodeSpec("leech", "lattice shells", "codebook", False, lattice="leech24"),
        CodeSpec("e8-roots", "lattice shells", "codebook", True, lattice="e8"),
        CodeSpec("e8-shells12", "lattice shells 1+2", "codebook", True, lattice="e8"),
        *shells, *products,
        CodeSpec("leech-shells12", "lattice shells 1+2", "leech-shells12", False, lattice="leech24"),
        *grids, *float_codes,
    )


SPECS = _specs()


def _empty_row(spec: CodeSpec) -> dict:
    return {"name": spec.name, "family": spec.family, "exact_max_cosine": "", "kissing": None,
            "neighbours_min": None, "neighbours_mean": None, "exact": False, "lattice": "",
            "packing_density": None, "packing_density_exact": "", "center_density": None,
            "center_density_exact": "", "mse": None, "mean_angle_degrees": None,
            "covering_angle_degrees": None, "quality_samples": None}


def _set_statistics(row: dict, stats) -> None:
    row.update(delta_min=stats.delta_min, max_cosine=stats.max_cosine, exact=stats.exact,
               exact_max_cosine=str(stats.exact_max_cosine) if stats.exact else "",
               neighbours_min=stats.min_neighbours, neighbours_mean=stats.mean_neighbours)


def _set_lattice(row: dict, lattice_name: str) -> None:
    from lattices import zoo

    entry = zoo.lattice(lattice_name)
    densities = entry.densities()
    row.update(lattice=entry.label, kissing=entry.kissing_number, packing_density=densities.packing_float,
               packing_density_exact=str(densities.packing), center_density=densities.center_float,
               center_density_exact=str(densities.center))


def _code_and_statistics(spec: CodeSpec, row: dict):
    """The code to quantize with (None: no exact search) after filling the geometry columns."""
    from lattices import metrics, spherical, zoo
    from lattices.grid_codes import GridCode
    from lattices.product_code import ProductCode
    from lattices.zoo.codes import leech_shells12_max_cosine, shell_codebook

    if spec.kind == "codebook":
        code = spherical.by_name(spec.name)
        _set_statistics(row, metrics.codebook_statistics(code, progress=True))
    elif spec.kind == "zoo-shell":
        code = shell_codebook(spec.lattice)
        _set_statistics(row, metrics.neighbour_statistics(zoo.minimal_vectors(spec.lattice)))
    elif spec.kind == "product":
        component = shell_codebook(spec.lattice)
        code = ProductCode(component, spec.groups)
        stats = metrics.neighbour_statistics(zoo.minimal_vectors(spec.lattice))
        exact = code.max_cosine(stats.exact_max_cosine)
        row.update(delta_min=code.delta_min(stats.exact_max_cosine), max_cosine=float(exact),
                   exact_max_cosine=str(exact), exact=True,
                   neighbours_min=spec.groups * stats.min_neighbours,
                   neighbours_mean=float(spec.groups * stats.min_neighbours))
    elif spec.kind == "grid":
        code = GridCode(spec.levels, spec.dim)
        if spec.levels == 2:  # BSQ: closest pairs differ in one sign, cosine (d − 2)/d
            row.update(delta_min=math.sqrt(8 / spec.dim), max_cosine=(spec.dim - 2) / spec.dim,
                       exact_max_cosine=str(Fraction(spec.dim - 2, spec.dim)), exact=True,
                       neighbours_min=spec.dim, neighbours_mean=float(spec.dim))
        else:
            row.update(delta_min=None, max_cosine=None)
    else:  # leech-shells12: exact δ_min from the inner-product structure; no exact search here
        result = leech_shells12_max_cosine()
        row.update(delta_min=float(result.delta_min), max_cosine=float(result.max_cosine),
                   exact_max_cosine=str(result.max_cosine), exact=True)
        return None, D24, LEECH_SHELLS12_SIZE
    return code, code.dim, code.size


def _bounds(dim: int, size: int, cache: dict) -> tuple[float | None, float | None]:
    from lattices.bounds import max_cosine_lower_bound

    if (dim, size) not in cache:
        values = []
        for method in ("lp", "levenshtein"):
            try:
                values.append(max_cosine_lower_bound(dim, size, method))
            except ValueError:  # beyond the range of the bound
                values.append(None)
        cache[dim, size] = tuple(values)
    return cache[dim, size]


def code_row(spec: CodeSpec, samples: int, dense_samples: int, bound_cache: dict) -> dict:
    """All columns for one code (see lattice_report.FIELDS)."""
    from lattices.grid_codes import GridCode
    from lattices.product_code import ProductCode
    from lattices.quantization_quality import quantization_quality

    start = time.perf_counter()
    row = _empty_row(spec)
    code, dim, size = _code_and_statistics(spec, row)
    if spec.lattice and spec.kind != "product":
        _set_lattice(row, spec.lattice)
    row.update(dim=dim, size=size, bits=math.log2(size), bits_per_dim=math.log2(size) / dim)
    lp, levenshtein = _bounds(dim, size, bound_cache)
    known = [value for value in (lp, levenshtein) if value is not None]
    bound = max(known) if known else None
    row.update(bound_lp=lp, bound_levenshtein=levenshtein, bound_max_cosine=bound,
               bound_delta_min=None if bound is None else math.sqrt(2 - 2 * bound))
    row["delta_gap"] = (None if bound is None or row["delta_min"] is None
                        else row["bound_delta_min"] - row["delta_min"])
    if code is not None:
        component = code.component if isinstance(code, ProductCode) else code
        structured = isinstance(code, GridCode) or component.name == "leech"
        dense_work = component.size * component.dim
        count = samples if structured or dense_work <= DENSE_WORK_LIMIT else dense_samples
        quality = quantization_quality(code, count, seed=0, progress=True)
        row.update(mse=quality.mse, mean_angle_degrees=quality.mean_angle_degrees,
                   covering_angle_degrees=quality.covering_angle_degrees, quality_samples=count)
    row["seconds"] = time.perf_counter() - start
    return row
