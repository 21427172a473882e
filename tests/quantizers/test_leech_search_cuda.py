"""The Λ24 search on a CUDA device: compiled kernels, screening rate, graph replay, caller capture (needs CUDA)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from lattices.leech_search import nearest_minimal
from tests.search_reference import adversarial_inputs

pytestmark = pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("triton") is None,
                                reason="needs a CUDA device and Triton")


def _gaussian(n: int, seed: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((n, 24)).astype(np.float32))


def test_compiled_stages_match_the_exact_search():
    from quantizers.kernels.leech_search import leech_nearest_minimal

    gaussian = _gaussian(65_536, 0)  # float32, as the quantizers call it
    ties = torch.from_numpy(np.concatenate(list(adversarial_inputs(np.random.default_rng(1)).values())))  # float64
    for z in (gaussian, ties):
        got = leech_nearest_minimal(z.cuda(), check_finite=False).cpu().numpy()
        np.testing.assert_array_equal(got, nearest_minimal(z.numpy()))


def test_compiled_screening_certifies_most_gaussian_tokens_correctly():
    from quantizers.kernels.leech_screen_triton import screen
    from quantizers.kernels.leech_search import KernelConfig, kernel_tables

    z = _gaussian(65_536, 3)
    expected = nearest_minimal(z.numpy())
    tables, config = kernel_tables(torch.device("cuda")), KernelConfig()
    for candidates in (1, config.screen_candidates):
        got = screen(z.cuda(), tables, config, candidates=candidates).cpu().numpy()
        certified = got >= 0
        assert certified.mean() > 0.9, (candidates, certified.mean())  # ≈ 95 % (docs/search.md): bounds stay tight
        np.testing.assert_array_equal(got[certified], expected[certified])


def test_brute_force_alone_and_shared_agree():
    from quantizers.kernels.leech_brute_force_triton import brute_force

    z = torch.from_numpy(np.concatenate(list(adversarial_inputs(np.random.default_rng(2)).values()))).cuda()
    expected = nearest_minimal(z.cpu().numpy())
    for programs in (4, 4096):  # one program per token; tiles shared by programs
        np.testing.assert_array_equal(brute_force(z, programs=programs).cpu().numpy(), expected)


def test_repeated_address_replays_a_graph_with_fresh_results():
    from quantizers.kernels import leech_search

    leech_search.SEARCH_GRAPHS.clear()
    z = torch.empty(4096, 24, device="cuda")
    results = []
    for seed in range(4):
        z.copy_(_gaussian(4096, 10 + seed).cuda())  # same address, new values
        results.append((leech_search.leech_nearest_minimal(z, check_finite=False), nearest_minimal(z.cpu().numpy())))
    assert len(leech_search.SEARCH_GRAPHS.graphs) == 1  # captured at the second call, replayed after
    for got, expected in results:  # each result is its own copy, not the graph's buffer
        np.testing.assert_array_equal(got.cpu().numpy(), expected)


def test_search_inside_a_graph_captured_by_the_caller():
    import quantizers
    from quantizers.base import normalize_rows

    quantizer = quantizers.build("leech24", check_finite=False).cuda()
    z = torch.empty(2048, 24, device="cuda")
    z.copy_(_gaussian(2048, 20).cuda())
    quantizer(z)  # compiles the kernels outside the capture
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = quantizer(z)
    for seed in (21, 22):
        z.copy_(_gaussian(2048, seed).cuda())
        graph.replay()
        u = normalize_rows(z).cpu()  # the quantizer's own unit vectors
        np.testing.assert_array_equal(out.indices.cpu().numpy(), nearest_minimal(u.numpy()))


def test_quantizer_steps_on_cuda_match_the_exact_search_and_the_cpu_step():
    import quantizers
    from quantizers.base import normalize_rows

    gpu, cpu = quantizers.build("leech24", check_finite=False).cuda(), quantizers.build("leech24")
    z = torch.empty(4096, 24, device="cuda")
    for seed in range(4):  # the same address: eager, eager + capture, then graph replays
        z.copy_(_gaussian(4096, 30 + seed).cuda())
        results = []
        for quantizer, latents in ((gpu, z.clone()), (cpu, z.cpu())):
            latents.requires_grad_(True)
            out = quantizer(latents)
            (out.quantized.square().sum() * 0.5).backward()
            results.append((out.indices.cpu(), out.quantized.detach().cpu(), latents.grad.cpu()))
        (gpu_indices, gpu_codes, gpu_grad), (cpu_indices, cpu_codes, cpu_grad) = results
        np.testing.assert_array_equal(gpu_indices.numpy(), nearest_minimal(normalize_rows(z).cpu().numpy()))
        assert torch.equal(gpu_indices, cpu_indices)
        assert torch.equal(gpu_codes, cpu_codes)
        torch.testing.assert_close(gpu_grad, cpu_grad)
