"""`slq bench-quantizers`: forward+backward time of leech24 against bsq and a dense tiled vq."""
from __future__ import annotations

import argparse
import os
import resource
from pathlib import Path

from experiments.bench.common import command_line, cuda_synchronizer, local_timestamp, machine, report, time_round_robin

FIELDS = ("quantizer", "device", "dtype", "tokens", "codebook_size", "bits", "search",
          "best_seconds", "median_seconds", "cpu_seconds", "tokens_per_second", "ratio_to_bsq",
          "median_ratio_to_bsq")
# name -> (registry name, options): the comparison of the issue, at matching dimension or bits
CONFIGS = {
    "leech24": ("leech24", {}),
    "bsq": ("bsq", {"dim": 18}),
    "vq": ("vq", {"codebook_size": 196_560, "dim": 24}),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench-quantizers",
        help="time forward+backward of leech24, bsq (d=18) and a dense vq (196,560 codes)",
        description="Times one training step of each quantizer (train mode, forward plus backward "
        "of sum(quantized²) + loss, warm-up excluded, best and median of --repeats, the "
        "quantizers' steps interleaved round-robin) on Gaussian "
        "latents of --tokens rows: leech24 (Λ24-SQ, 196,560 codes), bsq with d=18 (262,144 codes) "
        "and vq with a learned 196,560×24 codebook searched by the exact tiled search (EMA "
        "update included). Reports wall seconds (best and median), the process CPU seconds of the "
        "best step, tokens/s and each best time relative to bsq on the same device, plus the peak "
        "resident memory of the run.",
    )
    parser.add_argument("--tokens", type=int, default=65_536, help="latent vectors per step (default 65,536)")
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                        help="cpu, cuda, or all = cpu plus cuda when available (default)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per quantizer (default 3)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="dtype of the latents (default float32)")
    parser.add_argument("--quantizers", nargs="+", choices=tuple(CONFIGS), default=tuple(CONFIGS),
                        help="which quantizers to time (default all three)")
    parser.add_argument("--check-finite", action="store_true",
                        help="keep the per-call NaN/Inf check on (default off, as in a training loop "
                        "with its own NaN guard)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for torch and numba (default: their own defaults)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for results.json and results.csv (default: print only)")
    parser.set_defaults(func=run)


def _devices(choice: str) -> list[str]:
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was requested but CUDA is not available")
    if choice == "all":
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return [choice]


def _training_step(quantizer, z):
    """One training step of `quantizer` on fresh leaves of `z`: forward, then backward of sum(q²) + loss."""
    def step() -> None:
        latents = z.detach().requires_grad_(True)
        out = quantizer(latents)
        (out.quantized.float().square().sum() + out.loss).backward()

    return step


def run(args: argparse.Namespace) -> int:
    if args.tokens < 1 or args.repeats < 1:
        raise ValueError(f"--tokens and --repeats must be at least 1, got {args.tokens}, {args.repeats}")
    import numba
    import torch

    import quantizers

    if args.threads is not None:
        if not 1 <= args.threads <= numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"--threads must lie in [1, {numba.config.NUMBA_NUM_THREADS}], got {args.threads}")
        torch.set_num_threads(args.threads)
        numba.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    rows = []
    for device in _devices(args.device):
        generator = torch.Generator().manual_seed(args.seed)
        built, steps = {}, {}
        for name in args.quantizers:
            registry_name, options = CONFIGS[name]
            quantizer = quantizers.build(registry_name, check_finite=args.check_finite, **options).to(device).train()
            z = torch.randn(args.tokens, quantizer.dim, generator=generator).to(device=device, dtype=dtype)
            built[name], steps[name] = (quantizer, z), _training_step(quantizer, z)
        # steps interleaved, so that a drift of the machine's speed affects every quantizer alike;
        # one warm-up call each (numba/Triton compilation, allocator, thread pools)
        timings = time_round_robin(steps, args.repeats, synchronize=cuda_synchronizer(device))
        by_name = {}
        for name, timing in timings.items():
            quantizer, z = built[name]
            by_name[name] = {
                "quantizer": name, "device": device, "dtype": args.dtype, "tokens": args.tokens,
                "codebook_size": quantizer.codebook_size, "bits": round(quantizer.bits, 3),
                "search": quantizer.search_backend(z),
                "best_seconds": round(timing.best, 6), "median_seconds": round(timing.median, 6),
                "cpu_seconds": round(timing.best_cpu_seconds, 6),
                "tokens_per_second": round(args.tokens / timing.best),
            }
        for row in by_name.values():
            bsq = by_name.get("bsq")
            row["ratio_to_bsq"] = round(row["best_seconds"] / bsq["best_seconds"], 3) if bsq else None
            row["median_ratio_to_bsq"] = round(row["median_seconds"] / bsq["median_seconds"], 3) if bsq else None
            rows.append(row)
    meta = {
        "command": command_line(),
        "machine": machine(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "numba_threads": numba.get_num_threads(),
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__, "check_finite": args.check_finite,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "date": local_timestamp(),
        "step": "train mode, forward + backward of sum(quantized^2) + loss",
    }
    print(f"{'quantizer':10} {'device':6} {'search':31} {'best s':>9} {'median s':>9} {'CPU s':>9} "
          f"{'tokens/s':>12} {'vs bsq':>7} {'median vs bsq':>13}")
    for row in rows:
        print(f"{row['quantizer']:10} {row['device']:6} {row['search']:31} {row['best_seconds']:>9.5f} "
              f"{row['median_seconds']:>9.5f} {row['cpu_seconds']:>9.5f} {row['tokens_per_second']:>12,} "
              f"{str(row['ratio_to_bsq']):>7} {str(row['median_ratio_to_bsq']):>13}")
    report(meta, rows, FIELDS, args.out)
    return 0
