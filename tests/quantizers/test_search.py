"""Exactness of the nearest-codeword searches against fp64 brute force (ties to the lowest index)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lattices import leech
from quantizers.search import argmax_score, nearest_l2
from tests.quantizers.cases import SPHERICAL_CASES, make


def brute_force_argmax(scores_NK: np.ndarray) -> np.ndarray:
    """First index of the maximum per row (numpy argmax returns the first occurrence)."""
    return scores_NK.argmax(axis=1)


def test_tiled_argmax_matches_brute_force_across_tile_shapes():
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(300, 9, generator=generator)
    codebook = torch.randn(2000, 9, generator=generator)
    expected = brute_force_argmax(z.double().numpy() @ codebook.double().numpy().T)
    for row_chunk, code_tile in [(None, None), (7, 333), (300, 2000), (40, 97)]:
        found = argmax_score(z, codebook, row_chunk=row_chunk, code_tile=code_tile)
        assert found.dtype == torch.int64
        np.testing.assert_array_equal(found.numpy(), expected)


def test_ties_go_to_the_lowest_index_across_tiles():
    generator = torch.Generator().manual_seed(1)
    base = torch.randn(50, 6, generator=generator)
    codebook = torch.cat([base, base, base])  # every codeword appears three times
    z = torch.randn(40, 6, generator=generator)
    for code_tile in (None, 50, 49, 17):
        found = argmax_score(z, codebook, code_tile=code_tile)
        assert int(found.max()) < 50
        np.testing.assert_array_equal(found.numpy(), (z @ base.T).argmax(dim=1).numpy())


def test_nearest_l2_matches_brute_force_distances():
    generator = torch.Generator().manual_seed(2)
    z = torch.randn(200, 5, generator=generator) * 3
    codebook = torch.randn(1000, 5, generator=generator) * torch.rand(1000, 1, generator=generator) * 4
    distances = ((z.double()[:, None] - codebook.double()[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(nearest_l2(z, codebook, code_tile=128).numpy(), distances.argmin(1).numpy())


def test_search_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="expected z"):
        argmax_score(torch.randn(3, 4), torch.randn(5, 3))
    with pytest.raises(ValueError, match="empty"):
        argmax_score(torch.randn(3, 4), torch.randn(0, 4))


@pytest.mark.parametrize("case", SPHERICAL_CASES)
def test_lattice_quantizers_agree_with_fp64_brute_force(case):
    quantizer = make(case)
    generator = torch.Generator().manual_seed(3)
    z = torch.randn(48, quantizer.dim, generator=generator)
    out = quantizer(z)
    groups, group_dim = quantizer.groups, quantizer.group_dim
    units = F.normalize(z.double().reshape(-1, group_dim), dim=1).numpy()
    expected_positions = brute_force_argmax(units @ quantizer.codebook.double().numpy().T).reshape(-1, groups)
    expected = (expected_positions * quantizer.group_size ** np.arange(groups)).sum(axis=1)
    np.testing.assert_array_equal(out.indices.numpy(), expected)


def test_leech_structured_and_tiled_searches_match_the_integer_brute_force():
    quantizer = make("leech24")
    z = torch.randn(32, 24, generator=torch.Generator().manual_seed(4))
    expected = brute_force_argmax(z.double().numpy() @ leech.minimal_vectors().astype(np.float64).T)
    np.testing.assert_array_equal(quantizer(z).indices.numpy(), expected)
    np.testing.assert_array_equal(argmax_score(F.normalize(z, dim=1), quantizer.codebook).numpy(), expected)


def test_leech_exact_ties_go_to_the_lowest_canonical_index():
    quantizer = make("leech24")
    minimal = leech.minimal_vectors().astype(np.float64)
    # axis vectors: 46 pair-shape codewords tie; x_i + x_j directions: several ties too
    z = torch.cat([torch.eye(24), -torch.eye(24), torch.eye(24)[:6] + torch.eye(24)[6:12]])
    expected = brute_force_argmax(z.double().numpy() @ minimal.T)
    np.testing.assert_array_equal(quantizer(z).indices.numpy(), expected)
    np.testing.assert_array_equal(argmax_score(z, quantizer.codebook, code_tile=1000).numpy(), expected)
    assert int(quantizer(torch.eye(24)[:1]).indices) == leech.SHAPE_OFFSETS[2]  # (4, 4, 0, ...)
