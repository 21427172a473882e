"""MultiScaleResidualQuantizer: exact reconstruction from per-scale indices, layouts, gradients, φ modes."""
from __future__ import annotations

import pytest
import torch

from quantizers import MultiScaleResidualQuantizer
from tests.quantizers.cases import make_fresh

SCALES = (1, 2, 3, 5)


def _features(dim, channel_first=False, seed=0):
    f = torch.randn(2, dim, 5, 5, generator=torch.Generator().manual_seed(seed))
    return f if channel_first else f.permute(0, 2, 3, 1)


@pytest.mark.parametrize("case, phi", [("leech24-pair", "partial"), ("bsq", "shared"), ("fsq", "unshared"),
                                       ("vq-ema", "none"), ("e8-roots", "partial")])
def test_indices_reproduce_the_forward_output_exactly(case, phi):
    torch.manual_seed(0)
    msrq = MultiScaleResidualQuantizer(make_fresh(case), SCALES, phi=phi, phi_count=2).eval()
    f = _features(msrq.dim)
    out = msrq(f)
    assert out.quantized.shape == f.shape
    assert [tuple(m.shape) for m in out.indices] == [(2, s, s) for s in SCALES]
    assert torch.equal(msrq.indices_to_codes(out.indices), out.quantized)
    assert msrq.num_tokens == sum(s * s for s in SCALES)


@pytest.mark.parametrize("phi", ["none", "partial"])
def test_bfloat16_features_with_float32_phi_convs(phi):
    torch.manual_seed(0)
    msrq = MultiScaleResidualQuantizer(make_fresh("fsq"), SCALES, phi=phi, phi_count=2)
    f = _features(msrq.dim).bfloat16().requires_grad_(True)
    out = msrq(f)
    assert out.quantized.dtype == torch.bfloat16
    assert torch.equal(msrq.indices_to_codes(out.indices, dtype=torch.bfloat16), out.quantized)
    (out.quantized.float().square().sum() + out.loss).backward()
    assert f.grad.dtype == torch.bfloat16 and torch.isfinite(f.grad).all()


def test_channel_first_and_inner_layout_agree():
    torch.manual_seed(0)
    last = MultiScaleResidualQuantizer(make_fresh("fsq"), SCALES, upsample="bilinear")
    torch.manual_seed(0)
    first = MultiScaleResidualQuantizer(make_fresh("fsq", channel_first=True), SCALES, upsample="bilinear",
                                        channel_first=True)
    out_last = last(_features(4))
    out_first = first(_features(4, channel_first=True))
    torch.testing.assert_close(out_first.quantized, out_last.quantized.permute(0, 3, 1, 2), rtol=0, atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(out_first.indices, out_last.indices))
    assert torch.equal(first.indices_to_codes(out_first.indices), out_first.quantized)


def test_residuals_shrink_and_gradients_reach_f_and_phi():
    torch.manual_seed(0)
    msrq = MultiScaleResidualQuantizer(make_fresh("vq-ema", codebook_size=64, dim=4, init_std=0.5),
                                       SCALES, phi="shared")
    f = _features(4).requires_grad_(True)
    out = msrq(f)
    quantized, indices, loss = out  # unpacks like every quantizer's output; stats is an attribute
    assert quantized is out.quantized and indices is out.indices and loss is out.loss and len(indices) == len(SCALES)
    assert out.stats["quantization_mse"] < (f.detach() ** 2).mean()
    (out.quantized.sum() + out.loss).backward()
    assert torch.isfinite(f.grad).all() and f.grad.abs().sum() > 0
    assert msrq.phi[0].weight.grad.abs().sum() > 0


def test_partial_phi_assignment_follows_the_ticks():
    msrq = MultiScaleResidualQuantizer(make_fresh("fsq"), (1, 2, 3, 4, 5, 6, 8, 10, 13, 16), phi="partial")
    assert len(msrq.phi) == 4
    # ticks 1/12, 13/36, 23/36, 11/12 against k/9; k = 2 and k = 7 sit exactly halfway: lower tick
    assert msrq.phi_of_scale == (0, 0, 0, 1, 1, 2, 2, 2, 3, 3)


def test_bad_input():
    msrq = MultiScaleResidualQuantizer(make_fresh("fsq"), SCALES)
    with pytest.raises(ValueError, match="last scale"):
        msrq(torch.randn(2, 6, 6, 4))
    with pytest.raises(ValueError, match="layout"):
        msrq(torch.randn(2, 5, 4))
    bad = _features(4)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        msrq(bad)
    out = msrq(_features(4))
    with pytest.raises(ValueError, match="index maps"):
        msrq.indices_to_codes(out.indices[:-1])
    with pytest.raises(ValueError, match="index map 1"):
        msrq.indices_to_codes([out.indices[0], out.indices[2], out.indices[2], out.indices[3]])
    with pytest.raises(ValueError, match="phi"):
        MultiScaleResidualQuantizer(make_fresh("fsq"), SCALES, phi="some")
