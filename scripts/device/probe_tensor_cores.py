"""Probe of float16 tensor-core dots on a CUDA device: exact 0/1 counts and the error of float32 accumulation.

The screening kernel (docs/search.md) assumes that a Triton float16 dot with float32 output counts
0/1 products exactly and that its accumulation error stays far below the screening slack
(2^-16 of Σ|z|). This measures both on 64×32 by 32×128 tiles like the kernel's and prints JSON:
`python3 scripts/device/probe_tensor_cores.py --out DIR` (needs CUDA and Triton).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import triton
import triton.language as tl

TOKENS, DEPTH, COLUMNS, BLOCK = 1 << 16, 32, 128, 64


@triton.jit
def _dot_kernel(a_ptr, b_ptr, out_ptr, start, M: tl.constexpr, K: tl.constexpr, N: tl.constexpr,
                STARTED: tl.constexpr):
    rows = tl.program_id(0) * M + tl.arange(0, M)
    a = tl.load(a_ptr + rows[:, None] * K + tl.arange(0, K)[None, :])
    b = tl.load(b_ptr + tl.arange(0, K)[:, None] * N + tl.arange(0, N)[None, :])
    if STARTED:
        product = tl.dot(a, b, tl.full([M, N], start, tl.float32))
    else:
        product = tl.dot(a, b)
    tl.store(out_ptr + rows[:, None] * N + tl.arange(0, N)[None, :], product)


def tensor_core_dot(a_TK: torch.Tensor, b_KN: torch.Tensor, start: float | None = None) -> torch.Tensor:
    """float32 result of the float16 tile dot a @ b (+ start as the accumulator's initial value)."""
    out_TN = torch.empty(a_TK.shape[0], b_KN.shape[1], dtype=torch.float32, device=a_TK.device)
    _dot_kernel[(a_TK.shape[0] // BLOCK,)](a_TK, b_KN, out_TN, float(start or 0.0), M=BLOCK, K=DEPTH, N=COLUMNS,
                                           STARTED=start is not None, num_warps=4)
    return out_TN


def probe() -> dict:
    generator = torch.Generator(device="cuda").manual_seed(0)

    def uniform(*shape):
        return torch.rand(*shape, generator=generator, device="cuda")

    results = {}
    indicators_TK = (uniform(TOKENS, DEPTH) < 0.3).half()
    members_KN = (uniform(DEPTH, COLUMNS) < 0.3).half()
    counts = indicators_TK.double() @ members_KN.double()
    for start in (None, 0.0, 4096.0, 1.5 * 2.0**23):
        got = tensor_core_dot(indicators_TK, members_KN, start).double() - (start or 0.0)
        results[f"0/1 counts, accumulator start {start}"] = {"wrong": int((got != counts).sum())}
    for spread in (4, 12, 20):  # magnitudes 2^U(-spread, 0), random signs, 24 of 32 rows used
        signs = torch.where(uniform(TOKENS, DEPTH) < 0.5, -1.0, 1.0)
        a_TK = (torch.exp2(-spread * uniform(TOKENS, DEPTH)) * signs).half()
        a_TK[:, 24:] = 0
        total = a_TK.double().abs().sum(1, keepdim=True)
        largest = a_TK.double().abs().amax(1, keepdim=True)
        columns = {"±1 columns": torch.where(uniform(DEPTH, COLUMNS) < 0.5, -1.0, 1.0).half(),
                   "0/1 columns": members_KN}
        for name, b_KN in columns.items():
            left = a_TK if name == "±1 columns" else a_TK.abs()
            error = (tensor_core_dot(left, b_KN).double() - left.double() @ b_KN.double()).abs()
            results[f"spread 2^-{spread}, {name}"] = {
                "max error / Σ|a|": float((error / total).max()),
                "max error / (2^-23 max|a|)": float((error / (largest * 2.0**-23)).max()),
                "inexact fraction": float((error > 0).double().mean()),
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="directory for tensor-core-probe.json")
    args = parser.parse_args()
    text = json.dumps(probe(), indent=1)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "tensor-core-probe.json").write_text(text)


if __name__ == "__main__":
    main()
