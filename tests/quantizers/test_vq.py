"""VectorQuantizer: EMA update values, gradient-mode losses, dead-code restart; sign and scalar quantizers' known values."""
from __future__ import annotations

import math

import pytest
import torch

from quantizers import BinarySphericalQuantizer, FiniteScalarQuantizer, LookupFreeQuantizer, VectorQuantizer
from quantizers.binary import grouped_entropy_terms, sign_patterns

CODES = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [40.0, 40.0]])


def _vq(**options) -> VectorQuantizer:
    quantizer = VectorQuantizer(4, 2, **options)
    with torch.no_grad():
        quantizer.codebook.copy_(CODES)
        if quantizer.ema:
            quantizer.embed_sum.copy_(CODES)
    return quantizer


def test_ema_update_follows_the_formula():
    decay, epsilon = 0.9, 1e-5
    quantizer = _vq(decay=decay, epsilon=epsilon).train()
    z = torch.tensor([[0.5, 0.0], [-0.5, 0.0], [3.0, 1.0], [0.2, 3.0], [0.0, 5.0]])
    out = quantizer(z)
    assert out.indices.tolist() == [0, 0, 1, 2, 2]
    assert torch.equal(out.quantized, CODES[out.indices])  # the code before this step's update
    counts = torch.tensor([2.0, 1.0, 2.0, 0.0])
    sums = torch.tensor([[0.0, 0.0], [3.0, 1.0], [0.2, 8.0], [0.0, 0.0]])
    cluster = decay * torch.ones(4) + (1 - decay) * counts
    embed = decay * CODES + (1 - decay) * sums
    total = cluster.sum()
    smoothed = (cluster + epsilon) / (total + 4 * epsilon) * total
    torch.testing.assert_close(quantizer.cluster_size, cluster)
    torch.testing.assert_close(quantizer.codebook, embed / smoothed[:, None])
    assert out.loss.item() == pytest.approx(0.25 * ((z - CODES[out.indices]) ** 2).mean().item())
    codebook_before = quantizer.codebook.clone()
    quantizer.eval()(z)
    assert torch.equal(quantizer.codebook, codebook_before)  # no update in eval mode


def test_gradient_mode_trains_the_codebook():
    quantizer = _vq(ema=False, commitment_weight=0.5)
    z = torch.tensor([[1.0, 0.0], [0.0, 3.0]], requires_grad=True)
    out = quantizer(z)
    out.loss.backward()
    codes = CODES[out.indices]
    expected_loss = 1.5 * ((z.detach() - codes) ** 2).mean()
    assert out.loss.item() == pytest.approx(expected_loss.item())
    expected_grad = torch.zeros(4, 2)
    expected_grad.index_add_(0, out.indices, 2 * (codes - z.detach()) / z.numel())
    torch.testing.assert_close(quantizer.codebook.grad, expected_grad)


@pytest.mark.parametrize("ema", [True, False])
def test_dead_codes_are_restarted_at_batch_inputs(ema):
    quantizer = _vq(ema=ema, decay=0.5, dead_code_threshold=0.3).train()
    z = torch.tensor([[0.1, 0.1], [3.9, 0.2], [0.1, 3.7], [0.2, 0.0]])
    first = quantizer(z)  # code 3 unused: cluster size 0.5 ≥ 0.3, kept
    assert int(first.stats["dead_codes_restarted"]) == 0
    second = quantizer(z)  # now 0.25 < 0.3: restarted at one of the inputs
    assert int(second.stats["dead_codes_restarted"]) == 1
    assert any(torch.equal(quantizer.codebook[3].detach(), row) for row in z)
    assert quantizer.cluster_size[3] == 1.0


def test_vq_options_are_validated():
    with pytest.raises(ValueError, match="decay"):
        VectorQuantizer(4, 2, decay=1.0)
    with pytest.raises(ValueError, match="codebook_size"):
        VectorQuantizer(0, 2)


def test_sign_quantizers_known_values():
    z = torch.tensor([[0.3, -2.0, 0.0, 5.0]])
    bsq = BinarySphericalQuantizer(4)(z)
    assert bsq.indices.tolist() == [0b1001]  # bit i ↔ channel i, zero → bit 0
    assert torch.equal(bsq.quantized, torch.tensor([[0.5, -0.5, -0.5, 0.5]]))
    lfq = LookupFreeQuantizer(4)(z)
    assert lfq.indices.tolist() == [0b1001]
    assert torch.equal(lfq.quantized, torch.tensor([[1.0, -1.0, -1.0, 1.0]]))
    with pytest.raises(ValueError, match="dim must be an integer"):
        BinarySphericalQuantizer(63)


def test_per_bit_entropy_terms_known_values():
    per_bit = sign_patterns(1)
    per_sample, codebook = grouped_entropy_terms(torch.zeros(5, 3), per_bit)
    assert per_sample.item() == pytest.approx(3 * math.log(2))
    assert codebook.item() == pytest.approx(3 * math.log(2))
    confident = torch.tensor([[30.0, -30.0], [-30.0, 30.0]])  # two certain, opposite codes
    per_sample, codebook = grouped_entropy_terms(confident, per_bit)
    assert per_sample.item() == pytest.approx(0.0, abs=1e-9)
    assert codebook.item() == pytest.approx(2 * math.log(2))


def test_fsq_known_values():
    quantizer = FiniteScalarQuantizer([3, 4])
    out = quantizer(torch.tensor([[0.0, 0.0], [10.0, 10.0], [-10.0, -10.0]]))
    assert out.indices.tolist() == [1 + 3 * 2, 2 + 3 * 3, 0]
    assert torch.equal(out.quantized, torch.tensor([[0.0, 0.0], [1.0, 0.5], [-1.0, -1.0]]))
    assert quantizer.codebook_size == 12
    codes = quantizer.indices_to_codes(torch.arange(12))
    assert len({tuple(row) for row in codes.tolist()}) == 12
    with pytest.raises(ValueError, match="levels"):
        FiniteScalarQuantizer([4, 1])
