"""`slq bench-search`: the structured Λ24 nearest-minimal search against dense brute-force searches."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Callable

from experiments.bench.common import (CudaPeakMemory, command_line, cuda_synchronizer, local_timestamp, machine,
                                      report, time_calls)

FIELDS = ("method", "device", "tokens", "seconds", "tokens_per_second", "speedup_vs_tiled",
          "peak_extra_bytes", "memory_measure", "reference_tokens", "agreement_fp64", "note")
TILE_CODEWORDS = 16_384
TILE_TOKENS = {"cpu": 4_096, "cuda": 16_384}
SWEEP = (  # screening (block tokens, block codewords, block octads, warps, second-pass candidates) for --sweep
    (64, 128, 64, 4, 2), (64, 128, 64, 4, 3), (64, 64, 64, 4, 2), (64, 64, 32, 4, 2),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench-search",
        help="time the exact structured Λ24 nearest-minimal search against dense searches",
        description="On seeded Gaussian float32 tokens, times quantizers.kernels.leech_search."
        "leech_nearest_minimal (numba on CPU, Triton on CUDA; warm-up excluded, best of "
        "--repeats) and, in the same run, the tiled dense float32 search (matmul against 16,384 "
        "codewords at a time with a running argmax, timed once) and on CUDA the one-shot "
        "N×196,560 float32 matmul + argmax (on as many tokens as fit in memory) with its "
        "bfloat16 variant. Reports tokens/s, the speed ratio to the tiled search, peak extra "
        "memory (torch.cuda.max_memory_allocated on CUDA, an estimate from allocation sizes on "
        "CPU) and agreement with a float64 brute force on the first --reference-tokens tokens.",
    )
    parser.add_argument("--tokens", type=int, default=65_536, help="tokens per timed call (default 65,536)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of the structured search; the fastest counts")
    parser.add_argument("--reference-tokens", type=int, default=4_096,
                        help="tokens checked against the float64 brute force (default 4,096)")
    parser.add_argument("--sweep", action="store_true",
                        help="CUDA: also time the screening-kernel configurations in SWEEP")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="directory for results.json and results.csv")
    parser.set_defaults(func=run)


def _timed(function: Callable, device, repeats: int) -> tuple[float, int, object]:
    """(fastest wall seconds, peak extra bytes on CUDA or -1, result) over `repeats` calls, the caller
    having warmed up; the peak is the largest of the calls' (an eager first call allocates all the
    scratch that a later CUDA-graph replay finds in the graph's own pool)."""
    peak = CudaPeakMemory(device)
    timing = time_calls(function, repeats, warmup=0, synchronize=cuda_synchronizer(device),
                        around=peak.track if device.type == "cuda" else None)
    return timing.best, peak.peak_bytes, timing.result


def _float64_argmax(z_N24, vectors_K24, chunk: int = 512):
    import torch

    vectors = vectors_K24.double()
    return torch.cat([torch.argmax(z_N24[s:s + chunk].double() @ vectors.T, dim=1)
                      for s in range(0, z_N24.shape[0], chunk)])


def _check_arguments(args: argparse.Namespace) -> None:
    for name in ("tokens", "repeats", "reference_tokens"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    import torch
    from tqdm import tqdm

    from lattices import leech
    from quantizers.kernels.leech_search import KernelConfig, leech_nearest_minimal
    from quantizers.search import argmax_score

    if args.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available")
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False  # the dense baselines are true float32
    load_before = os.getloadavg()[0]
    z_N24 = torch.randn(args.tokens, leech.DIM, generator=torch.Generator().manual_seed(args.seed)).to(device)
    vectors_K24 = torch.tensor(leech.minimal_vectors(), dtype=torch.float32, device=device)
    reference_count = min(args.tokens, args.reference_tokens)
    reference = _float64_argmax(z_N24[:reference_count], vectors_K24)

    def row(method: str, seconds: float, peak: int, measure: str, indices, tokens: int, note: str = "") -> dict:
        checked = min(tokens, reference_count)
        agreement = (indices[:checked] == reference[:checked]).double().mean().item()
        return {"method": method, "device": args.device, "tokens": tokens, "seconds": round(seconds, 4),
                "tokens_per_second": round(tokens / seconds), "speedup_vs_tiled": None,
                "peak_extra_bytes": peak, "memory_measure": measure, "reference_tokens": checked,
                "agreement_fp64": agreement, "note": note}

    measure = "torch.cuda.max_memory_allocated" if device.type == "cuda" else "estimate from allocation sizes"
    leech_nearest_minimal(z_N24[:1024])  # warm-up: numba compile or cache load, Triton compile of every stage
    seconds, peak, structured = _timed(lambda: leech_nearest_minimal(z_N24), device, args.repeats)
    if device.type == "cpu":  # a float64 copy of z (numba input) and the int64 output
        peak = args.tokens * (leech.DIM * 8 + 8)
    note = f"best of {args.repeats}"
    if device.type == "cuda":
        note += "; " + _stage_note(z_N24, KernelConfig())
    rows = [row("structured (numba)" if device.type == "cpu" else "structured (triton)", seconds, peak, measure,
                structured, args.tokens, note)]
    if device.type == "cuda":  # the survivor kernel alone, as before the screening kernel
        survivor_only = KernelConfig(screen_stages=0)
        leech_nearest_minimal(z_N24[:1024], config=survivor_only)
        seconds, peak, indices = _timed(lambda: leech_nearest_minimal(z_N24, config=survivor_only), device,
                                        args.repeats)
        same = (indices == structured).double().mean().item()
        rows.append(row("structured (triton, no screening)", seconds, peak, measure, indices, args.tokens,
                        f"best of {args.repeats}; {_stage_note(z_N24, survivor_only)}; "
                        f"same indices as with screening on all tokens: {same:.6f}"))

    tile_tokens = TILE_TOKENS[device.type]

    def tiled() -> torch.Tensor:
        chunks = range(0, args.tokens, tile_tokens)
        return torch.cat([argmax_score(z_N24[s:s + tile_tokens], vectors_K24, row_chunk=tile_tokens,
                                       code_tile=TILE_CODEWORDS) for s in tqdm(chunks, desc="tiled fp32", leave=False)])

    argmax_score(z_N24[:64], vectors_K24, row_chunk=64, code_tile=TILE_CODEWORDS)  # warm-up
    seconds, peak, tiled_indices = _timed(tiled, device, 1)
    if device.type == "cpu":  # one score tile, its row maxima, and the output
        peak = tile_tokens * TILE_CODEWORDS * 4 + tile_tokens * 24 + args.tokens * 8
    rows.append(row("tiled dense fp32", seconds, peak, measure, tiled_indices, args.tokens,
                    f"{tile_tokens} tokens x {TILE_CODEWORDS} codewords per tile, one timed call"))
    if device.type == "cuda":
        rows += _one_shot_rows(z_N24, vectors_K24, reference, row, measure)
        if args.sweep:
            rows += _sweep_rows(z_N24, device, row, measure)
    tiled_speed = next(entry for entry in rows if entry["method"] == "tiled dense fp32")["tokens_per_second"]
    for entry in rows:
        entry["speedup_vs_tiled"] = round(entry["tokens_per_second"] / tiled_speed, 1)

    meta = {
        "command": command_line(),
        "machine": machine() if device.type == "cpu" else torch.cuda.get_device_name(device),
        "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "load_average_1min_before": round(load_before, 2), "load_average_1min_after": round(os.getloadavg()[0], 2),
        "date": local_timestamp(),
        "inputs": f"{args.tokens} float32 Gaussian tokens, seed {args.seed}",
        "reference": f"float64 matmul + argmax (first index on ties) on the first {reference_count} tokens",
    }
    print(f"{'method':34} {'tokens':>8} {'tokens/s':>13} {'x tiled':>8} {'peak extra MB':>13} {'agree fp64':>10}")
    for entry in rows:
        print(f"{entry['method']:34} {entry['tokens']:>8} {entry['tokens_per_second']:>13,} "
              f"{entry['speedup_vs_tiled']:>8} {entry['peak_extra_bytes'] / 2**20:>13.1f} {entry['agreement_fp64']:>10.6f}")
    report(meta, rows, FIELDS, args.out)
    return 0


def _one_shot_rows(z_N24, vectors_K24, reference, row: Callable, measure: str) -> list[dict]:
    """The published dense search: one N×196,560 score matrix and an argmax, float32 and bfloat16."""
    import torch

    free_bytes, _ = torch.cuda.mem_get_info(z_N24.device)
    fitting = int(0.4 * free_bytes // (vectors_K24.shape[0] * 4))
    tokens = min(z_N24.shape[0], fitting)
    if tokens < 1:
        return []
    note = "" if tokens == z_N24.shape[0] else f"only {tokens} tokens fit in memory"
    rows = []
    for name, dtype in (("one-shot dense fp32", torch.float32), ("one-shot dense bf16", torch.bfloat16)):
        z, vectors = z_N24[:tokens].to(dtype), vectors_K24.to(dtype)
        torch.argmax(z[:16] @ vectors.T, dim=1)  # warm-up
        seconds, peak, indices = _timed(lambda: torch.argmax(z @ vectors.T, dim=1), z.device, 1)
        rows.append(row(name, seconds, peak, measure, indices, tokens, note))
    return rows


def _stage_note(z_N24, config) -> str:
    """Time and uncertain-token count of each CUDA stage (docs/search.md)."""
    import torch

    from quantizers.kernels.leech_search import search_stages, stage_names

    names = stage_names(config)
    indices = torch.empty(z_N24.shape[0], dtype=torch.int64, device=z_N24.device)
    parts = []
    for mark, (name, stage) in enumerate(zip(names, search_stages(z_N24, config)), start=1):
        seconds, _, _ = _timed(lambda: stage(indices), z_N24.device, 1)
        parts.append(f"{name} {seconds * 1e3:.2f} ms, left {int((indices == -mark).sum())}")
    return "; ".join(parts)


def _sweep_rows(z_N24, device, row: Callable, measure: str) -> list[dict]:
    """The first screening stage alone and the whole search under each configuration of SWEEP."""
    from quantizers.kernels.leech_screen_triton import screen
    from quantizers.kernels.leech_search import KernelConfig, kernel_tables, leech_nearest_minimal

    rows, tables = [], kernel_tables(z_N24.device)
    for block_tokens, block_codewords, block_octads, warps, candidates in SWEEP:
        config = KernelConfig(screen_block_tokens=block_tokens, screen_block_codewords=block_codewords,
                              screen_block_octads=block_octads, screen_warps=warps, screen_candidates=candidates)
        name = f"{block_tokens}/{block_codewords}/{block_octads}/w{warps}/k{candidates}"
        leech_nearest_minimal(z_N24[:4096], config=config)
        seconds, peak, indices = _timed(lambda: screen(z_N24, tables, config), device, 3)
        certified = (indices >= 0).double().mean().item()
        rows.append(row(f"screening stage 1 only {name}", seconds, peak, measure, indices, z_N24.shape[0],
                        f"certified {certified:.4f} (uncertain tokens count as disagreeing)"))
        seconds, peak, indices = _timed(lambda: leech_nearest_minimal(z_N24, config=config), device, 3)
        rows.append(row(f"structured (triton) {name}", seconds, peak, measure, indices, z_N24.shape[0],
                        "screening block tokens/codewords/octads/warps, second-pass candidates"))
    return rows
