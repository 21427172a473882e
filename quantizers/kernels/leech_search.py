"""Exact Λ24 nearest-minimal search on torch tensors: Triton kernels on CUDA, numba on CPU.

`leech_nearest_minimal(z)` returns the same indices as `lattices.leech_search.nearest_minimal`: the
canonical index of the minimal vector x with the largest float64 inner product B(x, z) (coordinate
order; ties -> lowest index; definition in that module and docs/search.md). On CUDA it runs stages,
each on the tokens the previous one could not certify: the screening kernel (float16 tensor-core
bounds, one exact candidate per family; `leech_screen_triton`) over all tokens, the screening
kernel with more candidates, the survivor kernel (exact int8 bounds, decisions with a certified
margin in float64; `leech_search_triton`), and a float64 brute force of B for the rest (true near
ties, exact ties, overflowing survivor lists; `leech_brute_force_triton`). No host
synchronisation when check_finite=False (docs/search.md).

This module is the one door to the search on torch: it registers the operator
`torch.ops.slq.leech_nearest_minimal` (CPU and CUDA kernels, fake kernel for torch.compile), and
callers import the dispatch (`leech_nearest_minimal`, `search_checked_rows`) and the shared kernel
types (`KernelConfig`, `TokenList`, `kernel_tables`, defined in `leech_tables`) from here; the
Triton kernel modules import only `leech_tables` and `leech_triton_common`, never this module.
"""
from __future__ import annotations

import os
from dataclasses import replace
from functools import partial

import numpy as np
import torch
from torch import Tensor

from lattices.decoder_input import SCORE_LIMIT
from quantizers.kernels.leech_search_graphs import SearchGraphs
from quantizers.kernels.leech_tables import DEFAULT_CONFIG, DIM, KernelConfig, KernelTables, TokenList, kernel_tables

__all__ = ["BACKENDS", "DEFAULT_CONFIG", "DIM", "KernelConfig", "KernelTables", "SEARCH_GRAPHS", "TokenList",
           "kernel_tables", "leech_nearest_minimal", "search_checked_rows", "search_stages", "stage_names", "validate"]

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
BACKENDS = ("auto", "triton", "numba")


def validate(z: Tensor, *, check_finite: bool = True) -> Tensor:
    """Check a (..., 24) floating tensor for the search; returns it flattened to a contiguous (N, 24).

    check_finite=False skips the value check (a host synchronisation) for float16/bfloat16/float32,
    whose magnitudes are below 2^128 anyway; float64 input is always checked against 2^1000."""
    if not isinstance(z, Tensor):
        raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
    if z.dtype not in FLOAT_DTYPES:
        raise TypeError(f"z must be float16, bfloat16, float32 or float64, got {z.dtype}")
    if z.ndim == 0 or z.shape[-1] != DIM:
        raise ValueError(f"z must have shape (..., {DIM}), got {tuple(z.shape)}")
    if z.numel() == 0:
        raise ValueError(f"z is empty (shape {tuple(z.shape)})")
    if not check_finite and z.dtype != torch.float64:
        return z.detach().reshape(-1, DIM).contiguous()
    largest = torch.linalg.vector_norm(z.detach().reshape(-1), ord=float("inf")).item()
    if not np.isfinite(largest):
        raise ValueError("z contains non-finite values (nan or inf)")
    if largest > SCORE_LIMIT:
        raise ValueError("z has entries above 2^1000 in magnitude; rescale it (scores would overflow)")
    return z.detach().reshape(-1, DIM).contiguous()


def leech_nearest_minimal(z_N24: Tensor, *, backend: str = "auto", config: KernelConfig | None = None,
                          check_finite: bool = True) -> Tensor:
    """Canonical indices (int64, shape z.shape[:-1], on z's device) of the minimal vectors of Λ24
    with the largest float64 inner product with each z; ties -> lowest index; zero vector -> 0.

    backend: "auto" (Triton on CUDA, numba on CPU), "triton" (also on CPU tensors when
    TRITON_INTERPRET=1 was set before the first use, for tests) or "numba" (CPU tensors).
    config: Triton launch parameters (`KernelConfig`). A non-contiguous z is copied once. On CUDA,
    repeated calls on the same tensor address replay a CUDA graph of the stages
    (`leech_search_graphs`; `config.graphs` = 0 turns that off).
    check_finite: raise ValueError on nan/inf. False skips that check (a host synchronisation) on the
    Triton backend for float16/bfloat16/float32 z: a non-finite row then gets an unspecified index
    in [0, 196560) (no stage certifies it; the brute force picks one). The numba backend and
    float64 z are always checked.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto" and isinstance(z_N24, Tensor):
        backend = "triton" if z_N24.is_cuda else "numba"
    flat_N24 = validate(z_N24, check_finite=check_finite or backend == "numba")
    if backend == "numba":
        if flat_N24.device.type != "cpu":
            raise ValueError(f"the numba backend needs a CPU tensor, got device {flat_N24.device}")
        indices_N = _numba_search(flat_N24 if flat_N24.dtype == torch.float64 else flat_N24.float())
    elif flat_N24.is_cuda:
        indices_N = SEARCH_GRAPHS(flat_N24, config or DEFAULT_CONFIG)
    elif flat_N24.device.type == "cpu" and os.environ.get("TRITON_INTERPRET") == "1":
        indices_N = _triton_search(flat_N24, config or DEFAULT_CONFIG)
    else:
        raise ValueError(f"the triton backend needs a CUDA tensor (or a CPU tensor with TRITON_INTERPRET=1 "
                         f"set before the first use), got device {flat_N24.device}")
    return indices_N.reshape(z_N24.shape[:-1])


def search_checked_rows(flat_N24: Tensor) -> Tensor:
    """`leech_nearest_minimal` for rows its caller has already checked: a contiguous float32
    (N, 24) tensor, default configuration, no argument checks (the quantizer's hot path, where
    those checks and the wrapper cost as much host time as the graph replay itself). CUDA: the
    Triton stages; CPU: the numba search (which still raises ValueError on non-finite rows)."""
    if flat_N24.is_cuda:
        return SEARCH_GRAPHS(flat_N24, DEFAULT_CONFIG)
    return _numba_search(flat_N24)


def _numba_search(flat_N24: Tensor) -> Tensor:
    """`lattices.leech_search.nearest_minimal` (numba: imported and compiled on first use) of a CPU
    float32/float64 (N, 24) tensor."""
    from lattices.leech_search import nearest_minimal

    return torch.from_numpy(nearest_minimal(flat_N24.numpy()))


def _triton_search(flat_N24: Tensor, config: KernelConfig) -> Tensor:
    """The CUDA stages (`search_stages`) in order on a contiguous (N, 24) tensor."""
    indices_N = torch.empty(flat_N24.shape[0], dtype=torch.int64, device=flat_N24.device)
    for stage in search_stages(flat_N24, config):
        stage(indices_N)
    return indices_N


SEARCH_GRAPHS = SearchGraphs(_triton_search)


def stage_names(config: KernelConfig) -> list[str]:
    """Names of the CUDA stages that `search_stages` returns for `config`, in order."""
    names = ["screening (1 candidate)", f"screening ({config.screen_candidates} candidates)"][:config.screen_stages]
    names += [] if config.screen_stages else ["survivor kernel (float32)"]
    return names + ["survivor kernel (float64)", "brute force"]


def search_stages(flat_N24: Tensor, config: KernelConfig) -> list:
    """The CUDA stages (docs/search.md, `stage_names`) as functions of the index buffer (int64 (N,)):
    screening with one candidate over all tokens, screening with `config.screen_candidates`
    candidates (`config.screen_stages` screening passes in all), the survivor kernel with float64
    decisions (preceded by a float32 pass when there is no screening: it then sees every token),
    and the float64 brute force, each on the tokens the previous stage left uncertain. Stage k
    writes -k where it cannot certify and appends those tokens to a `TokenList` that the next stage
    reads; the brute force decides every token it gets.

    Scratch, allocated here: two int32 id buffers of N entries that the lists take in turn and one
    zeroed int64 buffer of N + (stages − 1) entries (the brute force's keys, then the list counts),
    so 16 bytes per token and a single memset; nothing waits for the host.
    """
    from quantizers.kernels.leech_brute_force_triton import brute_force
    from quantizers.kernels.leech_screen_triton import screen
    from quantizers.kernels.leech_search_triton import launch

    n_tokens, device = flat_N24.shape[0], flat_N24.device
    if n_tokens >= 2**31:
        raise ValueError(f"the CUDA search takes fewer than 2^31 tokens per call, got {n_tokens}")
    tables = kernel_tables(device)
    rescreen = replace(config, screen_block_tokens=config.rescreen_block_tokens)
    precise = replace(config, block_tokens=config.precise_block_tokens)
    kernels = [partial(screen, flat_N24, tables, config, candidates=1),
               partial(screen, flat_N24, tables, rescreen, candidates=config.screen_candidates)]
    kernels = kernels[:config.screen_stages] if config.screen_stages else [
        partial(launch, flat_N24, tables, config, precise=False)]
    kernels.append(partial(launch, flat_N24, tables, precise, precise=True))
    zeroed_S = torch.zeros(n_tokens + len(kernels), dtype=torch.int64, device=device)
    buffers = [torch.empty(n_tokens, dtype=torch.int32, device=device) for _ in range(2)]
    lists = [TokenList(buffers[k % 2], zeroed_S[n_tokens + k:n_tokens + k + 1]) for k in range(len(kernels))]

    def stage(k: int, indices_N: Tensor) -> None:
        kernels[k](out_N=indices_N, tokens=lists[k - 1] if k else None, leftovers=lists[k], uncertain=-1 - k)

    def last(indices_N: Tensor) -> None:
        brute_force(flat_N24, out_N=indices_N, tokens=lists[-1], keys_N=zeroed_S[:n_tokens])

    return [partial(stage, k) for k in range(len(kernels))] + [last]


def _leech_nearest_minimal_cuda(u_N24: Tensor) -> Tensor:
    # No host synchronisation for a finiteness check: the quantizer base checks when check_finite.
    return leech_nearest_minimal(u_N24, check_finite=False)


def _leech_nearest_minimal_fake(u_N24: Tensor) -> Tensor:
    return u_N24.new_empty((u_N24.shape[0],), dtype=torch.int64)


# The search as one torch operator (numba on CPU, Triton on CUDA) with a fake kernel, so that
# torch.compile traces around it: torch.ops.slq.leech_nearest_minimal(u), u a float32 (N, 24) tensor.
_LIBRARY = torch.library.Library("slq", "FRAGMENT")
_LIBRARY.define("leech_nearest_minimal(Tensor u) -> Tensor")
_LIBRARY.impl("leech_nearest_minimal", _numba_search, "CPU")
_LIBRARY.impl("leech_nearest_minimal", _leech_nearest_minimal_cuda, "CUDA")
torch.library.register_fake("slq::leech_nearest_minimal", _leech_nearest_minimal_fake, lib=_LIBRARY)
