"""`slq bench-decoders`: throughput of the E8 and Λ24 decoders against plain-numpy baselines."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from experiments.bench.common import Timing, command_line, local_timestamp, machine, report, time_calls

FIELDS = ("decoder", "points", "points_per_second", "points_per_cpu_second", "baseline",
          "baseline_points", "baseline_points_per_second", "speedup", "agreement")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench-decoders",
        help="time the E8 and Λ24 nearest-point decoders against numpy baselines",
        description="Times e8.nearest_point, e8.nearest_root and leech.nearest_point (numba, all "
        "threads, warm-up excluded, best of --repeats) on Gaussian points and, in the same run, "
        "plain-numpy baselines: the same E8 coset rounding and the E8 root argmax over a "
        "240-column product (on all points), and the Λ24 D24-coset decoder evaluated on all 8192 "
        "cosets (on --baseline-points points). Reports points/s (wall clock, and per CPU-second "
        "of the process), the wall-clock speed ratio and the fraction of points on which decoder "
        "and baseline agree exactly.",
    )
    parser.add_argument("--points", type=int, default=1_000_000,
                        help="points per timed decoder call (default 1,000,000)")
    parser.add_argument("--baseline-points", type=int, default=500,
                        help="points for the slow Λ24 exhaustive baseline (default 500)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls; the fastest counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for results.json and results.csv (default: print only)")
    parser.set_defaults(func=run)


def _time_decoder(function, x: np.ndarray, repeats: int) -> Timing:
    """`repeats` timed calls of `function(x)` after one on at most 1024 points (numba compilation or
    cache load, thread pool start)."""
    function(x[:1024])
    return time_calls(lambda: function(x), repeats, warmup=0)


def _compare(name: str, decoder, baseline_name: str, baseline, x: np.ndarray,
             baseline_count: int, repeats: int) -> dict:
    decoded = _time_decoder(decoder, x, repeats)
    subset = x[:baseline_count]
    expected = _time_decoder(baseline, subset, 1)
    agreement = np.all(decoded.result[:baseline_count] == expected.result,
                       axis=tuple(range(1, expected.result.ndim)))
    speed = len(x) / decoded.best
    baseline_speed = len(subset) / expected.best
    return {"decoder": name, "points": len(x), "points_per_second": round(speed),
            "points_per_cpu_second": round(len(x) / decoded.best_cpu_seconds),
            "baseline": baseline_name, "baseline_points": len(subset),
            "baseline_points_per_second": round(baseline_speed),
            "speedup": round(speed / baseline_speed, 1), "agreement": float(agreement.mean())}


def _check_positive(args: argparse.Namespace) -> None:
    for name in ("points", "baseline_points", "repeats"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} must be at least 1, got {getattr(args, name)}")


def run(args: argparse.Namespace) -> int:
    _check_positive(args)
    load_before = os.getloadavg()[0]
    import numba

    from lattices import e8, leech
    from lattices.e8_decoder import nearest_point_numpy
    from lattices.leech_decoder import nearest_point_exhaustive

    rng = np.random.default_rng(args.seed)
    x8 = rng.normal(scale=2.0, size=(args.points, e8.DIM))
    x24 = rng.normal(scale=4.0, size=(args.points, leech.DIM))
    roots = e8.roots().T.astype(np.float64)

    def root_argmax(x: np.ndarray) -> np.ndarray:  # in blocks: x @ roots is 240 floats per point
        return np.concatenate([np.argmax(x[start:start + 65_536] @ roots, axis=1)
                               for start in range(0, len(x), 65_536)])

    rows = [
        _compare("e8.nearest_point", e8.nearest_point, "numpy coset rounding",
                 nearest_point_numpy, x8, args.points, args.repeats),
        _compare("e8.nearest_root", e8.nearest_root, "numpy 240-root argmax",
                 root_argmax, x8, args.points, args.repeats),
        _compare("leech.nearest_point", leech.nearest_point, "numpy all 8192 cosets",
                 nearest_point_exhaustive, x24, min(args.points, args.baseline_points),
                 args.repeats),
    ]
    meta = {
        "command": command_line(),
        "machine": machine(), "cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
        "load_average_1min_before": round(load_before, 2),
        "date": local_timestamp(),
        "inputs": "Gaussian: scale 2 (E8, doubled coordinates), scale 4 (Λ24, √8 coordinates)",
    }
    print(f"{'decoder':20} {'points/s':>11} {'pts/cpu-s':>11} {'baseline':22} "
          f"{'baseline pts/s':>14} {'ratio':>8} {'agree':>6}")
    for row in rows:
        print(f"{row['decoder']:20} {row['points_per_second']:>11,} "
              f"{row['points_per_cpu_second']:>11,} {row['baseline']:22} "
              f"{row['baseline_points_per_second']:>14,} {row['speedup']:>8} {row['agreement']:>6.4f}")
    report(meta, rows, FIELDS, args.out)
    return 0
