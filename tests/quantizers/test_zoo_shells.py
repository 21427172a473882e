"""Tests of the zoo lattice-shell quantizers (`quantizers.build("k12", dim=24)` etc.)."""
import numpy as np
import pytest
import torch

import quantizers
from lattices.product_code import ProductCode
from lattices.quantization_quality import best_cosines
from lattices.zoo.codes import shell_codebook


@pytest.mark.parametrize("name, dim, groups", [("d4", 24, 6), ("e6", 6, 1), ("e7", 14, 2),
                                                ("k12", 24, 2), ("bw16", 16, 1)])
def test_quantizer_finds_the_nearest_product_codeword(name, dim, groups):
    quantizer = quantizers.build(name, dim=dim).eval()
    z = torch.randn(256, dim, generator=torch.Generator().manual_seed(0))
    out = quantizer(z)
    assert quantizer.codebook_size == shell_codebook(name).size ** groups
    u = torch.nn.functional.normalize(z, dim=1).double().numpy()
    expected = best_cosines(ProductCode(shell_codebook(name), groups), u)
    achieved = np.einsum("nd,nd->n", u, out.quantized.double().numpy())
    assert np.abs(achieved - expected).max() < 1e-5  # fp32 search, exact up to fp32 ties


@pytest.mark.parametrize("options, error", [
    ({"dim": 20}, ValueError), ({"dim": 0}, ValueError), ({"dim": 24.0}, ValueError),
])
def test_bad_dimension_is_rejected(options, error):
    with pytest.raises(error):
        quantizers.build("k12", **options)


def test_unknown_lattice_is_rejected():
    from quantizers.registry import build_lattice_shell

    with pytest.raises(ValueError, match="unknown lattice"):
        build_lattice_shell("a2")
