"""`slq bench-lattices`: wall-clock times of Λ24/E8 enumeration, theta series and all-pairs δ_min."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench-lattices",
        help="time lattice enumeration, theta series and exact all-pairs δ_min",
        description="Times (best of --repeats, after one warm-up) the enumeration of the 196,560 "
        "Λ24 minimal vectors from scratch (Golay code included), of the E8 shells, the Λ24/E8 theta-series programs and the "
        "matching of a shuffled float32 Λ24 file, then (once each) exact all-pairs δ_min of "
        "196,560-point 24-D Fibonacci and random float codes and of the Λ24 shell (integer). "
        "Prints machine, date, command and load average with the numbers; the all-pairs runs "
        "also report the CPU seconds of all threads (less sensitive to other load).",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the fast steps")
    parser.add_argument("--skip-all-pairs", action="store_true",
                        help="skip the three 196,560-point all-pairs runs")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for bench-lattices.json (default: print only)")
    parser.set_defaults(func=run)


def _cpu_model() -> str:
    try:
        listing = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    for line in listing.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _best_seconds(step: Callable[[], object], repeats: int) -> float:
    step()  # warm-up: numba compilation or cache load, imports
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def _once(step: Callable[[], object]) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process over all threads, result) of one call."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = step()
    return time.perf_counter() - start, time.process_time() - start_cpu, result


def run(args: argparse.Namespace) -> int:
    import tempfile

    import numpy as np

    from lattices import codebook_io, e8, golay, leech, metrics, spherical, theta

    if args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    results: dict = {
        "command": "slq " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "slq bench-lattices",
        "machine": f"{_cpu_model()}, {os.cpu_count()} logical CPUs",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average_start": os.getloadavg(),
        "seconds": {},
    }
    seconds = results["seconds"]
    cached = (golay.generator_matrix, golay.codeword_ints, golay.codewords,
              golay.octad_codeword_indices, golay.octads, leech.minimal_vectors)

    def enumerate_from_scratch():
        for function in cached:
            function.cache_clear()
        return leech.minimal_vectors()

    seconds["leech_minimal_vectors_from_scratch"] = _best_seconds(enumerate_from_scratch,
                                                                 args.repeats)
    seconds["e8_roots_and_second_shell"] = _best_seconds(
        lambda: (e8.roots.__wrapped__(), e8.second_shell.__wrapped__()), args.repeats)
    seconds["leech_theta_4_shells"] = _best_seconds(lambda: theta.leech_theta(4), args.repeats)
    seconds["e8_theta_4_shells"] = _best_seconds(lambda: theta.e8_theta(4), args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leech.npy"
        order = np.random.default_rng(0).permutation(leech.NUM_MINIMAL)
        np.save(path, (0.5 * spherical.leech_shell().vectors[order]).astype(np.float32))
        seconds["leech_file_match_float32"] = _best_seconds(
            lambda: codebook_io.match_leech_file(path), args.repeats)
    if not args.skip_all_pairs:
        results["all_pairs"] = {}
        for name in ("fibonacci-n196560-d24", "random-n196560-d24", "leech"):
            build_seconds, _, codebook = _once(lambda: spherical.by_name(name))
            pair_seconds, pair_cpu, stats = _once(
                lambda: metrics.codebook_statistics(codebook, progress=True))
            results["all_pairs"][name] = {
                "build_seconds": build_seconds, "all_pairs_seconds": pair_seconds,
                "all_pairs_cpu_seconds": pair_cpu,
                "delta_min": stats.delta_min, "max_cosine": stats.max_cosine,
                "neighbours_mean": stats.mean_neighbours, "exact": stats.exact}
    results["load_average_end"] = os.getloadavg()
    text = json.dumps(results, indent=2)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench-lattices.json").write_text(text)
    return 0
