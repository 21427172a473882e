"""Fused chunked linear cross-entropy with Z-loss: equal to the naive logits path in loss and gradients."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from models.generator import fused_linear_cross_entropy
from models.generator.fused_cross_entropy import chunk_rows
from lattices.leech import NUM_MINIMAL


def naive_loss(hidden_ND, weight_VD, target_N, bias_V=None, z_loss_weight=0.0):
    logits_NV = F.linear(hidden_ND, weight_VD, bias_V).float() if hidden_ND.dtype != torch.float64 \
        else F.linear(hidden_ND, weight_VD, bias_V)
    lse_N = torch.logsumexp(logits_NV, dim=1)
    return F.cross_entropy(logits_NV, target_N) + z_loss_weight * lse_N.square().mean()


def gradients(loss_fn, *tensors):
    tensors = [tensor.detach().clone().requires_grad_(True) for tensor in tensors]
    loss = loss_fn(*tensors)
    loss.backward()
    return loss.detach(), [tensor.grad for tensor in tensors]


@pytest.mark.parametrize("gradients_in_forward", [False, True])
@pytest.mark.parametrize("z_loss_weight", [0.0, 1e-4, 0.3])
def test_matches_naive_path_float64_leech_vocabulary(z_loss_weight: float, gradients_in_forward: bool) -> None:
    generator = torch.Generator().manual_seed(0)
    hidden_ND = torch.randn(5, 8, dtype=torch.float64, generator=generator)
    weight_VD = torch.randn(NUM_MINIMAL, 8, dtype=torch.float64, generator=generator)
    bias_V = torch.randn(NUM_MINIMAL, dtype=torch.float64, generator=generator)
    target_N = torch.tensor([0, NUM_MINIMAL - 1, 12345, 97152, 7])
    budget = 2 * NUM_MINIMAL * 3 * 8  # two rows per chunk (three float64 buffers of V per row)
    assert chunk_rows(NUM_MINIMAL, torch.float64, budget) == 2
    fused, fused_grads = gradients(lambda h, w, b: fused_linear_cross_entropy(
        h, w, target_N, bias_V=b, z_loss_weight=z_loss_weight, memory_budget_bytes=budget,
        gradients_in_forward=gradients_in_forward), hidden_ND, weight_VD, bias_V)
    naive, naive_grads = gradients(lambda h, w, b: naive_loss(h, w, target_N, b, z_loss_weight),
                                   hidden_ND, weight_VD, bias_V)
    torch.testing.assert_close(fused, naive, rtol=1e-12, atol=1e-12)
    for fused_grad, naive_grad in zip(fused_grads, naive_grads):
        torch.testing.assert_close(fused_grad, naive_grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("gradients_in_forward", [False, True])
def test_z_loss_gradient_is_two_lambda_lse_softmax(gradients_in_forward: bool) -> None:
    """d(λ·mean lse²)/dlogits = 2λ·lse·softmax/N: the difference of the fused gradients with and without Z-loss."""
    generator = torch.Generator().manual_seed(1)
    hidden_ND = torch.randn(4, 3, dtype=torch.float64, generator=generator)
    weight_VD = torch.randn(11, 3, dtype=torch.float64, generator=generator)
    target_N = torch.tensor([0, 3, 10, 3])
    weight = 0.7
    _, (grad_with,) = gradients(lambda h: fused_linear_cross_entropy(
        h, weight_VD, target_N, z_loss_weight=weight, gradients_in_forward=gradients_in_forward), hidden_ND)
    _, (grad_without,) = gradients(lambda h: fused_linear_cross_entropy(h, weight_VD, target_N), hidden_ND)
    logits_NV = hidden_ND @ weight_VD.T
    lse_N = torch.logsumexp(logits_NV, dim=1)
    expected_ND = (2 * weight * lse_N[:, None] * torch.softmax(logits_NV, dim=1) / 4) @ weight_VD
    torch.testing.assert_close(grad_with - grad_without, expected_ND, rtol=1e-10, atol=1e-14)
    assert torch.autograd.gradcheck(
        lambda h, w, b: fused_linear_cross_entropy(h, w, target_N, bias_V=b, z_loss_weight=weight,
                                                   memory_budget_bytes=11 * 3 * 8,
                                                   gradients_in_forward=gradients_in_forward),
        (hidden_ND.requires_grad_(), weight_VD.requires_grad_(), torch.zeros(11, dtype=torch.float64,
                                                                             requires_grad=True)))


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 9), classes=st.integers(2, 30), budget_rows=st.integers(1, 10), seed=st.integers(0, 99),
       gradients_in_forward=st.booleans())
def test_chunking_does_not_change_loss_or_gradient(rows: int, classes: int, budget_rows: int, seed: int,
                                                   gradients_in_forward: bool) -> None:
    generator = torch.Generator().manual_seed(seed)
    hidden_ND = torch.randn(rows, 4, dtype=torch.float64, generator=generator)
    weight_VD = torch.randn(classes, 4, dtype=torch.float64, generator=generator)
    target_N = torch.randint(classes, (rows,), generator=generator)
    chunked = gradients(lambda h: fused_linear_cross_entropy(
        h, weight_VD, target_N, z_loss_weight=0.1, memory_budget_bytes=budget_rows * classes * 24,
        gradients_in_forward=gradients_in_forward), hidden_ND)
    whole = gradients(lambda h: fused_linear_cross_entropy(h, weight_VD, target_N, z_loss_weight=0.1), hidden_ND)
    torch.testing.assert_close(chunked[0], whole[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(chunked[1][0], whole[1][0], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_low_precision_inputs_keep_their_dtype_and_match_float32_logits(dtype: torch.dtype) -> None:
    generator = torch.Generator().manual_seed(2)
    hidden_ND = torch.randn(6, 16, generator=generator).to(dtype)
    weight_VD = (0.3 * torch.randn(1000, 16, generator=generator)).to(dtype)
    target_N = torch.randint(1000, (6,), generator=generator)
    fused, (grad_fused,) = gradients(lambda w: fused_linear_cross_entropy(hidden_ND, w, target_N, z_loss_weight=1e-4),
                                     weight_VD)
    naive, (grad_naive,) = gradients(lambda w: naive_loss(hidden_ND, w, target_N, None, 1e-4), weight_VD)
    assert fused.dtype == dtype and grad_fused.dtype == dtype
    tolerance = 1e-5 if dtype == torch.float32 else 2e-2
    torch.testing.assert_close(fused.float(), naive.float(), rtol=tolerance, atol=tolerance)
    torch.testing.assert_close(grad_fused.float(), grad_naive.float(), rtol=tolerance, atol=tolerance)


@pytest.mark.skipif(not hasattr(F, "linear_cross_entropy"), reason="torch without F.linear_cross_entropy")
def test_agrees_with_torch_linear_cross_entropy_without_z_loss() -> None:
    generator = torch.Generator().manual_seed(3)
    hidden_ND = torch.randn(7, 5, dtype=torch.float64, generator=generator)
    weight_VD = torch.randn(40, 5, dtype=torch.float64, generator=generator)
    bias_V = torch.randn(40, dtype=torch.float64, generator=generator)
    target_N = torch.randint(40, (7,), generator=generator)
    torch.testing.assert_close(fused_linear_cross_entropy(hidden_ND, weight_VD, target_N, bias_V=bias_V),
                               F.linear_cross_entropy(hidden_ND, weight_VD, target_N, linear_bias=bias_V))


def _arguments(**changes):
    arguments = dict(hidden_ND=torch.zeros(3, 4), weight_VD=torch.zeros(10, 4), target_N=torch.tensor([0, 1, 9]))
    return arguments | changes


@pytest.mark.parametrize("changes, error", [
    ({"hidden_ND": torch.zeros(3, 5)}, ValueError),
    ({"hidden_ND": torch.zeros(3, 4, 1)}, ValueError),
    ({"hidden_ND": torch.zeros(0, 4), "target_N": torch.zeros(0, dtype=torch.int64)}, ValueError),
    ({"hidden_ND": torch.zeros(3, 4, dtype=torch.int64)}, TypeError),
    ({"weight_VD": torch.zeros(10, 4, dtype=torch.float64)}, TypeError),
    ({"target_N": torch.tensor([0, 1, 10])}, ValueError),
    ({"target_N": torch.tensor([0, -1, 2])}, ValueError),
    ({"target_N": torch.tensor([0, 1])}, ValueError),
    ({"target_N": torch.tensor([0.0, 1.0, 2.0])}, TypeError),
    ({"hidden_ND": torch.tensor([[float("nan")] * 4] * 3)}, ValueError),
    ({"bias_V": torch.zeros(9)}, ValueError),
    ({"z_loss_weight": -1.0}, ValueError),
    ({"z_loss_weight": float("inf")}, ValueError),
    ({"memory_budget_bytes": 0}, ValueError),
])
def test_bad_input_is_rejected(changes: dict, error: type) -> None:
    with pytest.raises(error):
        fused_linear_cross_entropy(**_arguments(**changes))


def test_gradients_in_forward_scale_with_the_output_gradient_and_skip_work_without_grad() -> None:
    generator = torch.Generator().manual_seed(4)
    hidden_ND = torch.randn(5, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    weight_VD = torch.randn(8, 3, dtype=torch.float64, generator=generator)
    target_N = torch.randint(8, (5,), generator=generator)
    (3.0 * fused_linear_cross_entropy(hidden_ND, weight_VD, target_N, gradients_in_forward=True)).backward()
    expected, = torch.autograd.grad(3.0 * naive_loss(hidden_ND, weight_VD, target_N), hidden_ND)
    torch.testing.assert_close(hidden_ND.grad, expected)
    with torch.no_grad():
        loss = fused_linear_cross_entropy(hidden_ND, weight_VD, target_N, gradients_in_forward=True)
    torch.testing.assert_close(loss, naive_loss(hidden_ND, weight_VD, target_N).detach())
