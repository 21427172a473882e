"""torch.compile of quantizer forward+backward on CPU gives the eager indices and gradients."""
from __future__ import annotations

import pytest
import torch

from tests.quantizers.cases import make_fresh


@pytest.mark.slow
@pytest.mark.parametrize("case, fullgraph", [("bsq", False), ("leech24", True)])
def test_compiled_forward_backward_matches_eager(case, fullgraph):
    # fullgraph needs check_finite=False: the finite check is a data-dependent Python branch
    quantizer = make_fresh(case, check_finite=not fullgraph)
    compiled = torch.compile(quantizer, fullgraph=fullgraph)
    z = torch.randn(4, 8, quantizer.dim, generator=torch.Generator().manual_seed(0))
    results = []
    for module in (quantizer, compiled):
        latents = z.clone().requires_grad_(True)
        out = module(latents)
        (out.quantized.square().sum() + out.loss).backward()
        results.append((out.indices, out.quantized.detach(), latents.grad))
    (eager_indices, eager_codes, eager_grad), (indices, codes, grad) = results
    assert torch.equal(indices, eager_indices)
    assert torch.equal(codes, eager_codes)
    torch.testing.assert_close(grad, eager_grad)
