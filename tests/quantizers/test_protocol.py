"""The quantizer protocol for every registered quantizer: round trips, layouts, gradients, dtypes, bad input."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

import quantizers
from tests.quantizers.cases import CASES, NORMALIZING_CASES, SPHERICAL_CASES, make

ALL = list(CASES)


def _latents(quantizer, batch_shape=(2, 3, 5), seed=0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*batch_shape, quantizer.dim, generator=generator).to(dtype)


def test_registry_covers_required_names():
    assert {"leech24", "e8", "fibonacci", "random", "bsq", "fsq", "lfq", "vq"} <= set(quantizers.BUILDERS)
    with pytest.raises(ValueError, match="unknown quantizer"):
        quantizers.build("nope")


@pytest.mark.parametrize("case", ALL)
def test_output_fields_and_round_trips(case):
    quantizer = make(case)
    z = _latents(quantizer)
    out = quantizer(z)
    assert isinstance(out, quantizers.QuantizerOutput)
    assert out.quantized.shape == z.shape and out.quantized.dtype == z.dtype
    assert out.indices.shape == z.shape[:-1] and out.indices.dtype == torch.int64
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    assert all(value.ndim == 0 and not value.requires_grad for value in out.stats.values())
    assert 0 <= int(out.indices.min()) and int(out.indices.max()) < quantizer.codebook_size
    assert torch.equal(quantizer.indices_to_codes(out.indices), out.quantized)
    assert torch.equal(quantizer.codes_to_indices(out.quantized), out.indices)
    assert quantizer.bits == pytest.approx(math.log2(quantizer.codebook_size))


@pytest.mark.parametrize("case", ["leech24", "bsq", "vq-ema"])
def test_output_unpacks_as_a_triple_and_keeps_stats(case):
    quantizer = make(case)
    z = _latents(quantizer)
    out = quantizer(z)
    quantized, indices, loss = out  # vector-quantize-pytorch's habit
    assert len(out) == 3
    assert quantized is out.quantized and indices is out.indices and loss is out.loss
    assert "quantization_mse" in out.stats
    replaced = out._replace(loss=loss + 1)
    assert isinstance(replaced, quantizers.QuantizerOutput) and replaced.stats is out.stats
    assert torch.equal(replaced.loss, loss + 1) and replaced.indices is indices
    assert "stats=" in repr(out)


@pytest.mark.parametrize("case", ALL)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_codes_to_indices_inverts_indices_to_codes(case, data):
    quantizer = make(case)
    values = data.draw(st.lists(st.integers(0, quantizer.codebook_size - 1), min_size=1, max_size=8))
    values += [0, quantizer.codebook_size - 1]
    indices = torch.tensor(values, dtype=torch.int64)
    codes = quantizer.indices_to_codes(indices)
    assert torch.equal(quantizer.codes_to_indices(codes), indices)
    assert torch.equal(quantizer.codes_to_indices(codes.bfloat16()), indices)


@pytest.mark.parametrize("case", ALL)
def test_channel_first_matches_channel_last(case):
    last, first = make(case), make(case, channel_first=True)
    z_last = _latents(last, batch_shape=(2, 3, 4))  # (B, H, W, d)
    out_last = last(z_last)
    z_first = z_last.permute(0, 3, 1, 2)  # (B, d, H, W)
    out_first = first(z_first)
    assert torch.equal(out_first.indices, out_last.indices)
    assert torch.equal(out_first.quantized, out_last.quantized.permute(0, 3, 1, 2))
    assert torch.equal(first.indices_to_codes(out_first.indices), out_first.quantized)
    assert torch.equal(first.codes_to_indices(out_first.quantized), out_first.indices)
    video = first(z_last[..., None, :].expand(2, 3, 4, 2, -1).permute(0, 4, 1, 2, 3))  # (B, d, H, W, T)
    assert video.indices.shape == (2, 3, 4, 2)
    assert torch.equal(video.indices[..., 1], out_last.indices)


@pytest.mark.parametrize("case", ALL)
def test_straight_through_gradient(case):
    quantizer = make(case)
    z = _latents(quantizer, seed=1).requires_grad_(True)
    upstream = torch.randn_like(z)
    (quantizer(z).quantized * upstream).sum().backward()
    z_ref = z.detach().clone().requires_grad_(True)
    if case in NORMALIZING_CASES:
        groups = getattr(quantizer, "groups", 1)
        scale = 1 / math.sqrt(groups) if case in SPHERICAL_CASES else 1.0
        reference = F.normalize(z_ref.reshape(*z.shape[:-1], groups, -1), dim=-1).reshape(z.shape) * scale
    elif case == "fsq":
        half_width = quantizer.half_width_d
        reference = (torch.tanh(z_ref + quantizer.shift_d) * quantizer.half_range_d - quantizer.offset_d) / half_width
    else:
        reference = z_ref
    (reference * upstream).sum().backward()
    torch.testing.assert_close(z.grad, z_ref.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["bsq", "lfq", "vq-grad"])
def test_loss_has_gradient(case):
    quantizer = make(case)
    z = _latents(quantizer, seed=2).requires_grad_(True)
    loss = quantizer(z).loss
    assert loss.requires_grad
    loss.backward()
    assert z.grad.abs().sum() > 0


@pytest.mark.parametrize("case", ALL)
def test_bf16_indices_match_fp32_and_autocast(case):
    quantizer = make(case)
    z_bf16 = _latents(quantizer, batch_shape=(64,), seed=3, dtype=torch.bfloat16)
    out_bf16 = quantizer(z_bf16)
    assert out_bf16.quantized.dtype == torch.bfloat16
    assert torch.equal(out_bf16.indices, quantizer(z_bf16.float()).indices)
    assert torch.equal(quantizer.indices_to_codes(out_bf16.indices, dtype=torch.bfloat16), out_bf16.quantized)
    z = z_bf16.float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_autocast = quantizer(z)
    assert torch.equal(under_autocast.indices, quantizer(z).indices)


@pytest.mark.parametrize("case", ALL)
def test_non_finite_input_is_rejected_unless_check_is_off(case):
    quantizer = make(case)
    z = _latents(quantizer)
    for bad in (math.nan, math.inf):
        z_bad = z.clone()
        z_bad[1, 2, 3, 0] = bad
        with pytest.raises(ValueError, match="non-finite"):
            quantizer(z_bad)
    unchecked = make(case, check_finite=False)
    z_bad[1, 2, 3, 0] = math.nan
    if "structured" in unchecked.search_backend(z_bad):
        with pytest.raises(ValueError, match="non-finite"):  # numba checks on its own, at no GPU cost
            unchecked(z_bad)
    else:  # no check, no device sync: the NaN reaches the output for the caller's own guard
        out = unchecked(z_bad)
        assert out.indices.shape == z.shape[:-1] and torch.isnan(out.quantized).any()


@pytest.mark.parametrize("case", ALL)
def test_float64_input_beyond_the_float32_range_is_rejected(case):
    quantizer = make(case)
    z = _latents(quantizer, dtype=torch.float64)
    z[0, 1, 2, 0] = 1e300  # finite in float64, infinite once cast to the quantizers' float32
    with pytest.raises(ValueError, match="z as float32 contains non-finite"):
        quantizer(z)
    with pytest.raises(ValueError, match="codes as float32 contains non-finite"):
        quantizer.codes_to_indices(quantizer.indices_to_codes(torch.tensor([0]), dtype=torch.float64) * 1e300)


@pytest.mark.parametrize("case", ALL)
def test_bad_shapes_dtypes_and_indices(case):
    quantizer = make(case)
    with pytest.raises(ValueError, match="channels"):
        quantizer(torch.randn(4, quantizer.dim + 1))
    with pytest.raises(ValueError, match="channels"):
        make(case, channel_first=True)(torch.randn(2, 3, quantizer.dim))
    with pytest.raises(ValueError, match="empty"):
        quantizer(torch.randn(0, quantizer.dim))
    with pytest.raises(TypeError, match="floating"):
        quantizer(torch.ones(3, quantizer.dim, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"indices must lie in"):
        quantizer.indices_to_codes(torch.tensor([0, quantizer.codebook_size]))
    with pytest.raises(ValueError, match=r"indices must lie in"):
        quantizer.indices_to_codes(torch.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        quantizer.indices_to_codes(torch.tensor([0.0]))
    codes = quantizer.indices_to_codes(torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="codeword|FSQ grid"):
        quantizer.codes_to_indices(codes + 0.05)


@pytest.mark.parametrize("case", NORMALIZING_CASES + ["lfq"])
def test_zero_vector_maps_to_index_zero_with_finite_gradient(case):
    quantizer = make(case)
    z = torch.zeros(3, quantizer.dim, requires_grad=True)
    out = quantizer(z)
    assert torch.equal(out.indices, torch.zeros(3, dtype=torch.int64))
    assert torch.equal(out.quantized, quantizer.indices_to_codes(out.indices))
    (out.quantized.sum() + out.loss).backward()
    assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize("case", NORMALIZING_CASES)
def test_normalizing_quantizers_ignore_the_scale_even_near_fp32_overflow(case):
    quantizer = make(case).eval()
    z = _latents(quantizer, batch_shape=(64,), seed=3)
    reference = quantizer(z)
    for scale in (1e-30, 1e20, 1e36):  # squares of 1e20 entries overflow fp32
        out = quantizer(z * scale)
        assert torch.equal(out.indices, reference.indices), scale
        assert torch.equal(out.quantized, reference.quantized), scale


def test_normalize_rows_gradient_is_the_tangent_projection():
    from quantizers.base import normalize_rows

    z = torch.randn(40, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    assert torch.autograd.gradcheck(normalize_rows, (z.clone().requires_grad_(True),))
    for scale in (1e-30, 1.0, 1e36):  # float32 rows whose squared norm would under- or overflow
        latents = (z * scale).float().requires_grad_(True)
        grad_out = torch.randn(40, 24, generator=torch.Generator().manual_seed(5))
        (normalize_rows(latents) * grad_out).sum().backward()
        u = z / z.norm(dim=1, keepdim=True)
        projected = grad_out.double() - u * (u * grad_out.double()).sum(dim=1, keepdim=True)
        expected = projected / (z.norm(dim=1, keepdim=True) * scale)
        row_error = (latents.grad.double() - expected).abs().amax(dim=1) / expected.abs().amax(dim=1)
        assert row_error.max() < 1e-6, scale  # a few fp32 roundings of the row's largest entry


def test_normalize_rows_keeps_zero_rows_with_identity_gradient_and_refuses_second_derivatives():
    from quantizers.base import normalize_rows

    z = torch.zeros(2, 5, requires_grad=True)
    grad_out = torch.arange(10.0).reshape(2, 5)
    u = normalize_rows(z)
    assert torch.equal(u, torch.zeros(2, 5))
    (u * grad_out).sum().backward()
    assert torch.equal(z.grad, grad_out)
    x = torch.randn(3, 4, requires_grad=True)
    (first,) = torch.autograd.grad(normalize_rows(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):  # no silently wrong second derivative
        first.sum().backward()


def test_lattice_codebooks_are_not_in_the_state_dict():
    for case in SPHERICAL_CASES + ["fsq"]:
        assert make(case).state_dict() == {}
    assert set(make("vq-ema").state_dict()) == {"codebook", "embed_sum", "cluster_size"}
