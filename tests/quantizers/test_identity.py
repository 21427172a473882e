"""The `identity` quantizer: the normalized latent passes through, indices are all 0, codes cannot be looked up."""
from __future__ import annotations

import pytest
import torch

import quantizers
from quantizers.base import normalize_rows


def test_identity_passes_the_normalized_latent_through_with_its_gradient():
    quantizer = quantizers.build("identity", dim=24)
    z = torch.randn(2, 3, 24, dtype=torch.float64, requires_grad=True)
    out = quantizer(z)
    expected = normalize_rows(z.detach().float().reshape(-1, 24)).reshape(2, 3, 24).double()
    assert torch.equal(out.quantized, expected) and out.quantized.dtype == torch.float64
    assert torch.equal(out.indices, torch.zeros(2, 3, dtype=torch.int64))
    assert out.loss.item() == 0.0 and out.stats["quantization_mse"].item() == 0.0
    weights = torch.randn(2, 3, 24, dtype=torch.float64)
    (out.quantized * weights).sum().backward()
    reference = z.detach().clone().requires_grad_(True)
    (torch.nn.functional.normalize(reference, dim=-1) * weights).sum().backward()
    torch.testing.assert_close(z.grad, reference.grad, rtol=1e-5, atol=1e-6)
    assert quantizer.codebook_size == 1 and quantizer.bits == 0.0


def test_identity_has_no_codes_to_look_up():
    quantizer = quantizers.build("identity", dim=4, channel_first=True)
    with pytest.raises(ValueError, match="no codebook"):
        quantizer.indices_to_codes(torch.zeros(2, 3, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="no codebook"):
        quantizer.codes_to_indices(torch.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="4 channels"):
        quantizer(torch.randn(2, 5, 3, 3))
    with pytest.raises(ValueError, match="non-finite"):
        quantizer(torch.full((1, 4, 1, 1), float("nan")))
