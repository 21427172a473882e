"""`slq bench-lattices`: wall-clock times of Λ24/E8 enumeration, theta series and all-pairs δ_min."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from experiments.bench.common import Timing, command_line, local_timestamp, machine, report, time_calls

FIELDS = ("step", "codebook", "timed_calls", "seconds", "cpu_seconds", "delta_min", "max_cosine",
          "neighbours_mean", "exact")
ALL_PAIRS_CODEBOOKS = ("fibonacci-n196560-d24", "random-n196560-d24", "leech")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench-lattices",
        help="time lattice enumeration, theta series and exact all-pairs δ_min",
        description="Times (best of --repeats, after one warm-up) the enumeration of the 196,560 "
        "Λ24 minimal vectors from scratch (Golay code included), of the E8 shells, the Λ24/E8 theta-series programs and the "
        "matching of a shuffled float32 Λ24 file, then (once each) the building and the exact all-pairs δ_min of "
        "196,560-point 24-D Fibonacci and random float codes and of the Λ24 shell (integer). "
        "Prints machine, date, command and load average with the numbers; every step also reports "
        "the CPU seconds of all threads of the process (less sensitive to other load).",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the fast steps")
    parser.add_argument("--skip-all-pairs", action="store_true",
                        help="skip the three 196,560-point all-pairs runs")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for results.json and results.csv (default: print only)")
    parser.set_defaults(func=run)


def _row(step: str, timing: Timing, codebook: str | None = None, stats=None) -> dict:
    """One results row: the fastest call's wall and CPU seconds, and the all-pairs statistics if any."""
    row = {"step": step, "codebook": codebook, "timed_calls": len(timing.seconds),
           "seconds": round(timing.best, 6), "cpu_seconds": round(timing.best_cpu_seconds, 6)}
    if stats is None:
        return row | dict.fromkeys(("delta_min", "max_cosine", "neighbours_mean", "exact"))
    return row | {"delta_min": stats.delta_min, "max_cosine": stats.max_cosine,
                  "neighbours_mean": stats.mean_neighbours, "exact": stats.exact}


def _fast_rows(repeats: int) -> list[dict]:
    """Best of `repeats` (after one warm-up) of the enumeration, theta-series and file-matching steps."""
    import tempfile

    import numpy as np

    from lattices import codebook_io, e8, golay, leech, spherical, theta

    cached = (golay.generator_matrix, golay.codeword_ints, golay.codewords,
              golay.octad_codeword_indices, golay.octads, leech.minimal_vectors)

    def enumerate_from_scratch():
        for function in cached:
            function.cache_clear()
        return leech.minimal_vectors()

    steps = {
        "leech_minimal_vectors_from_scratch": enumerate_from_scratch,
        "e8_roots_and_second_shell": lambda: (e8.roots.__wrapped__(), e8.second_shell.__wrapped__()),
        "leech_theta_4_shells": lambda: theta.leech_theta(4),
        "e8_theta_4_shells": lambda: theta.e8_theta(4),
    }
    rows = [_row(step, time_calls(function, repeats)) for step, function in steps.items()]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leech.npy"
        order = np.random.default_rng(0).permutation(leech.NUM_MINIMAL)
        np.save(path, (0.5 * spherical.leech_shell().vectors[order]).astype(np.float32))
        rows.append(_row("leech_file_match_float32", time_calls(lambda: codebook_io.match_leech_file(path), repeats)))
    return rows


def _all_pairs_rows() -> list[dict]:
    """One call each: building each codebook of ALL_PAIRS_CODEBOOKS and its exact all-pairs statistics."""
    from lattices import metrics, spherical

    rows = []
    for name in ALL_PAIRS_CODEBOOKS:
        built = time_calls(lambda: spherical.by_name(name), 1, warmup=0)
        pairs = time_calls(lambda: metrics.codebook_statistics(built.result, progress=True), 1, warmup=0)
        rows += [_row("build", built, name), _row("all_pairs_statistics", pairs, name, pairs.result)]
    return rows


def run(args: argparse.Namespace) -> int:
    if args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    load_start = os.getloadavg()[0]
    rows = _fast_rows(args.repeats) + ([] if args.skip_all_pairs else _all_pairs_rows())
    meta = {
        "command": command_line(), "machine": machine(), "cpus": os.cpu_count(),
        "load_average_1min_before": round(load_start, 2), "load_average_1min_after": round(os.getloadavg()[0], 2),
        "date": local_timestamp(),
        "timing": f"fast steps: best of {args.repeats} after one warm-up; build and all-pairs steps: one call each",
    }
    print(f"{'step':36} {'codebook':22} {'seconds':>10} {'CPU s':>10} {'delta_min':>10} {'exact':>6}")
    for row in rows:
        delta_min = "" if row["delta_min"] is None else f"{row['delta_min']:.6f}"
        print(f"{row['step']:36} {row['codebook'] or '':22} {row['seconds']:>10.4f} {row['cpu_seconds']:>10.4f} "
              f"{delta_min:>10} {'' if row['exact'] is None else str(row['exact']):>6}")
    report(meta, rows, FIELDS, args.out)
    return 0
