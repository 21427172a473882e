"""Generator heads: factorized Λ24 sampling always gives minimal vectors, losses on exact digits / bits, head choice."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lattices import leech
from models.generator import BitsHead, FactorizedLeechHead, FullHead, build_head
from models.generator.heads import DEFAULT_Z_LOSS_WEIGHT
from models.generator import fused_linear_cross_entropy
from quantizers.binary import BinarySphericalQuantizer
from quantizers.fsq import FiniteScalarQuantizer
from quantizers.leech24 import Leech24Quantizer

LEECH = Leech24Quantizer()


def _factorized_head(seed: int) -> FactorizedLeechHead:
    torch.manual_seed(seed)
    return FactorizedLeechHead(8, LEECH).double()


def _assert_minimal_vectors(indices_N: torch.Tensor) -> None:
    vectors_N24 = (LEECH.indices_to_digits(indices_N) - 4).numpy()
    assert leech.is_member(vectors_N24).all()
    assert ((vectors_N24.astype(np.int64) ** 2).sum(axis=1) == leech.MIN_NORM).all()


def test_factorized_prediction_is_the_best_codeword_by_brute_force() -> None:
    head = _factorized_head(0)
    hidden_ND = 3 * torch.randn(6, 8, dtype=torch.float64)
    log_probs_N24x9 = head.logits(hidden_ND)
    vectors_V24 = torch.from_numpy(leech.minimal_vectors().astype(np.int64))  # canonical order = index order
    brute_N = torch.stack([log_probs[torch.arange(24), vectors_V24 + 4].sum(dim=1).argmax()
                           for log_probs in log_probs_N24x9])
    assert torch.equal(head.predict(hidden_ND), brute_N)
    _assert_minimal_vectors(head.predict(hidden_ND))


def test_factorized_sampling_yields_minimal_vectors_even_for_non_codeword_preferences() -> None:
    """Logits that put all mass on the non-codeword (4, 4, …, 4) or (0, …, 0) still give minimal vectors."""
    head = _factorized_head(1)
    adversarial_N24x9 = torch.full((4, 24, 9), -30.0, dtype=torch.float64)
    adversarial_N24x9[0, :, 8] = 0  # every coordinate +4
    adversarial_N24x9[1, :, 4] = 0  # every coordinate 0
    adversarial_N24x9[2, :, 0] = 0  # every coordinate −4
    adversarial_N24x9[3] = torch.randn(24, 9, dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    for options in ({}, {"top_k": 1}, {"top_p": 0.5}, {"temperature": 5.0, "top_k": 1000}):
        indices_N = head.sample(adversarial_N24x9, generator=generator, **options)
        _assert_minimal_vectors(indices_N)
    hidden_ND = 10 * torch.randn(20, 8, dtype=torch.float64)
    _assert_minimal_vectors(head.sample(head.logits(hidden_ND), generator=generator))


def test_factorized_loss_is_mean_cross_entropy_over_exact_digits() -> None:
    head = _factorized_head(2)
    hidden_ND = torch.randn(5, 8, dtype=torch.float64)
    target_N = torch.tensor([0, 97151, 97152, 195455, 196559])
    digits_N24 = LEECH.indices_to_digits(target_N)
    expected = F.cross_entropy(head.proj(hidden_ND).view(5 * 24, 9), digits_N24.flatten())
    torch.testing.assert_close(head.loss(hidden_ND, target_N), expected)


def test_bits_head_loss_and_prediction_follow_the_bsq_index_bits() -> None:
    quantizer = BinarySphericalQuantizer(6)
    torch.manual_seed(3)
    head = BitsHead(8, 6).double()
    hidden_ND = torch.randn(7, 8, dtype=torch.float64)
    target_N = torch.randint(64, (7,))
    bits_N6 = quantizer.bits_radix.decode(target_N).double()
    expected = F.binary_cross_entropy_with_logits(head.proj(hidden_ND), bits_N6)
    torch.testing.assert_close(head.loss(hidden_ND, target_N), expected)
    predicted_codes_N6 = quantizer.indices_to_codes(head.predict(hidden_ND))
    assert torch.equal(predicted_codes_N6 > 0, head.logits(hidden_ND) > 0)


def test_full_head_loss_is_fused_cross_entropy_with_default_z_loss() -> None:
    torch.manual_seed(4)
    head = FullHead(8, 75).double()
    hidden_ND = torch.randn(9, 8, dtype=torch.float64)
    target_N = torch.randint(75, (9,))
    assert head.z_loss_weight == DEFAULT_Z_LOSS_WEIGHT == 1e-4
    expected = fused_linear_cross_entropy(hidden_ND, head.proj.weight, target_N, bias_V=head.proj.bias,
                                          z_loss_weight=1e-4)
    torch.testing.assert_close(head.loss(hidden_ND, target_N), expected)
    assert torch.equal(head.predict(hidden_ND), head.logits(hidden_ND).argmax(dim=1))
    eager = FullHead(8, 75, gradients_in_forward=True).double()
    eager.load_state_dict(head.state_dict())
    hidden_ND.requires_grad_(True)
    loss_grad, = torch.autograd.grad(head.loss(hidden_ND, target_N), hidden_ND)
    eager_grad, = torch.autograd.grad(eager.loss(hidden_ND, target_N), hidden_ND)
    torch.testing.assert_close(eager_grad, loss_grad)


def test_build_head_sizes_vocabulary_from_the_quantizer_and_rejects_mismatches() -> None:
    assert build_head("full", 8, LEECH).vocab_size == leech.NUM_MINIMAL
    assert build_head("full", 8, FiniteScalarQuantizer((5, 5, 3))).vocab_size == 75
    assert build_head("bits", 8, BinarySphericalQuantizer(18)).vocab_size == 2**18
    with pytest.raises(TypeError):
        build_head("factorized", 8, BinarySphericalQuantizer(18))
    with pytest.raises(TypeError):
        build_head("bits", 8, LEECH)
    with pytest.raises(ValueError):
        build_head("softmax", 8, LEECH)
    with pytest.raises(ValueError):
        _factorized_head(0).loss(torch.zeros(2, 8, dtype=torch.float64), torch.tensor([0, leech.NUM_MINIMAL]))
