"""Device profile of the CUDA Λ24 search: per-stage GPU times, host launch time, kernel resources.

Run from a checkout's root on a CUDA machine: `python3 scripts/device/profile_search.py --out DIR`.
It prints one JSON line per measurement and writes them to DIR/profile.jsonl. Times are medians of
CUDA-event timings after a warm-up; inputs are seeded Gaussian float32 tokens.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch


def _event_median(function, repeats: int) -> float:
    """Median milliseconds of `function` between two CUDA events."""
    times = []
    for _ in range(repeats):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        function()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def _host_median(function, repeats: int) -> float:
    """Median milliseconds the host spends issuing `function` (no synchronisation inside)."""
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1e3)
    torch.cuda.synchronize()
    return statistics.median(times)


def _resources(jit_function) -> list:
    """Registers, spills and shared memory of every compiled specialisation (Triton internals)."""
    found = []
    try:
        for cache in jit_function.device_caches.values():
            for kernel in cache[0].values():
                kernel._init_handles()
                found.append({"regs": kernel.n_regs, "spills": kernel.n_spills, "shared": kernel.metadata.shared,
                              "warps": kernel.metadata.num_warps})
    except Exception as error:  # an internal API: report what broke instead of failing the profile
        found.append(repr(error))
    return found


def _quantizer_steps(emit, repeats: int, tokens: int = 65_536) -> None:
    """Forward+backward of leech24 and bsq (d=18) as in `slq bench-quantizers`: GPU time between
    events, host time to issue the step, and wall time with the synchronisation."""
    import quantizers
    from quantizers.kernels import leech_search

    for name, options in (("leech24", {}), ("bsq", {"dim": 18}), ("leech24", {}), ("bsq", {"dim": 18})):
        quantizer = quantizers.build(name, check_finite=False, **options).cuda().train()
        z = torch.randn(tokens, quantizer.dim, generator=torch.Generator().manual_seed(0)).cuda()

        def step() -> None:
            latents = z.detach().requires_grad_(True)
            out = quantizer(latents)
            (out.quantized.float().square().sum() + out.loss).backward()

        def synchronized() -> None:
            step()
            torch.cuda.synchronize()

        step()
        u_N24 = torch.nn.functional.normalize(z, dim=1)
        emit({"what": "quantizer forward", "quantizer": name, "tokens": tokens,
              "host_ms": _host_median(lambda: quantizer(z), repeats)})
        if name == "leech24":
            emit({"what": "search op", "tokens": tokens,
                  "host_ms": _host_median(lambda: torch.ops.slq.leech_nearest_minimal(u_N24), repeats)})
        emit({"what": "quantizer step", "quantizer": name, "tokens": tokens,
              "graphs_cached": len(leech_search.SEARCH_GRAPHS.graphs),
              "gpu_ms": _event_median(step, repeats), "host_ms": _host_median(step, repeats),
              "wall_ms": _host_median(synchronized, repeats)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--label", default="working tree")
    parser.add_argument("--tokens", type=int, nargs="+", default=[65_536, 1_048_576])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    from quantizers.kernels.leech_brute_force_triton import brute_force
    from quantizers.kernels.leech_search import KernelConfig, TokenList, leech_nearest_minimal, search_stages

    args.out.mkdir(parents=True, exist_ok=True)
    records = []

    def emit(record: dict) -> None:
        record["label"] = args.label
        print(json.dumps(record), flush=True)
        records.append(record)

    config = KernelConfig()
    for tokens in args.tokens:
        z_N24 = torch.randn(tokens, 24, generator=torch.Generator().manual_seed(tokens)).cuda()
        leech_nearest_minimal(z_N24, check_finite=False)
        emit({"what": "search", "tokens": tokens,
              "gpu_ms": _event_median(lambda: leech_nearest_minimal(z_N24, check_finite=False), args.repeats),
              "host_ms": _host_median(lambda: leech_nearest_minimal(z_N24, check_finite=False), args.repeats)})
        eager = KernelConfig(graphs=0)
        emit({"what": "search without graphs", "tokens": tokens,
              "gpu_ms": _event_median(lambda: leech_nearest_minimal(z_N24, check_finite=False, config=eager),
                                      args.repeats),
              "host_ms": _host_median(lambda: leech_nearest_minimal(z_N24, check_finite=False, config=eager),
                                      args.repeats)})
        indices_N = torch.empty(tokens, dtype=torch.int64, device="cuda")
        stage_ms = []
        for _ in range(args.repeats):  # the stages in order, with an event after each
            stages = search_stages(z_N24, config)
            events = [torch.cuda.Event(enable_timing=True) for _ in range(len(stages) + 1)]
            events[0].record()
            for stage, event in zip(stages, events[1:]):
                stage(indices_N)
                event.record()
            events[-1].synchronize()
            stage_ms.append([a.elapsed_time(b) for a, b in zip(events, events[1:])])
        left = []
        for mark, stage in enumerate(search_stages(z_N24, config), start=1):  # untimed: count each stage's leftovers
            stage(indices_N)
            left.append(int((indices_N == -mark).sum()))
        for mark, times in enumerate(zip(*stage_ms), start=1):
            emit({"what": f"stage {mark}", "tokens": tokens, "gpu_ms": statistics.median(times),
                  "left": left[mark - 1]})
    _quantizer_steps(emit, args.repeats)
    z_N24 = torch.randn(4096, 24, generator=torch.Generator().manual_seed(1)).cuda()
    out_N = torch.empty(4096, dtype=torch.int64, device="cuda")
    for listed in (1, 2, 48, 766):
        first = TokenList(torch.arange(4096, dtype=torch.int32, device="cuda"),
                          torch.tensor([listed], device="cuda"))  # the first `listed` tokens
        brute_force(z_N24, out_N=out_N, tokens=first)
        emit({"what": "brute force", "listed": listed,
              "gpu_ms": _event_median(lambda: brute_force(z_N24, out_N=out_N, tokens=first), 5)})
    from quantizers.kernels import leech_brute_force_triton, leech_screen_triton, leech_search_triton

    for module, name in ((leech_screen_triton, "_leech_screen_kernel"), (leech_search_triton, "_leech_search_kernel"),
                         (leech_brute_force_triton, "_brute_force_kernel")):
        emit({"what": "resources", "kernel": name, "compiled": _resources(getattr(module, name))})
    (args.out / "profile.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


if __name__ == "__main__":
    main()
