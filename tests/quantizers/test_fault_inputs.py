"""Fault inputs to quantizers: non-float code dtypes, huge inputs, NaN/inf options, sparse and meta tensors."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import quantizers
from quantizers.multiscale import MultiScaleResidualQuantizer
from tests.quantizers.cases import CASES, make

# The float options of each quantizer in quantizers.build (the E8/Fibonacci/random/spherical
# builders pass commitment_weight on to SphericalCodeQuantizer).
FLOAT_OPTIONS = {
    "leech24": ("leech24", {}, ["commitment_weight"]),
    "e8": ("e8", {}, ["commitment_weight"]),
    "fibonacci": ("fibonacci", {"codebook_size": 50, "dim": 4}, ["commitment_weight"]),
    "random": ("random", {"codebook_size": 50, "dim": 4}, ["commitment_weight"]),
    "spherical": ("spherical", {"codebook": "e8-roots"}, ["commitment_weight"]),
    "bsq": ("bsq", {"dim": 4}, ["inverse_temperature", "entropy_weight", "entropy_gamma", "commitment_weight"]),
    "lfq": ("lfq", {"dim": 4}, ["inverse_temperature", "entropy_weight", "entropy_gamma", "commitment_weight"]),
    "vq": ("vq", {"codebook_size": 8, "dim": 4},
           ["decay", "commitment_weight", "dead_code_threshold", "epsilon", "init_std"]),
}
OPTION_CASES = [(name, option) for name, (_, _, options) in FLOAT_OPTIONS.items() for option in options]


def test_every_float_option_of_the_registry_is_listed():
    # fsq and identity have no float option; the zoo shells (d4 … bw16) take commitment_weight through
    # SphericalCodeQuantizer like e8, whose row covers that path
    assert set(FLOAT_OPTIONS) >= set(quantizers.BUILDERS) - {"fsq", "identity", "d4", "e6", "e7", "k12", "bw16"}


@pytest.mark.parametrize("name, option", OPTION_CASES)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "nan"])
def test_non_finite_options_are_refused_naming_the_option(name, option, value):
    builder, options, _ = FLOAT_OPTIONS[name]
    with pytest.raises(ValueError, match=f"{option} must be finite"):
        quantizers.build(builder, **options, **{option: value})


@pytest.mark.parametrize("option", ["phi_ratio", "commitment_weight"])
def test_non_finite_multiscale_options_are_refused(option):
    with pytest.raises(ValueError, match=f"{option} must be finite"):
        MultiScaleResidualQuantizer(quantizers.build("bsq", dim=4), scales=(1, 2), **{option: math.nan})


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", [torch.int64, torch.int8, torch.bool, torch.complex64, "float32", None])
def test_codes_are_only_returned_in_floating_dtypes(case, dtype):
    quantizer = make(case)
    with pytest.raises(TypeError, match="floating torch.dtype"):  # int64/bool/complex gave zeros
        quantizer.indices_to_codes(torch.zeros(3, dtype=torch.int64), dtype=dtype)


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(sorted(CASES)), exponent=st.integers(0, 38), rows=st.integers(1, 64),
       seed=st.integers(0, 2**31 - 1))
def test_finite_inputs_give_a_finite_loss_or_a_clear_error(case, exponent, rows, seed):
    quantizer = make(case)
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(rows, quantizer.dim, generator=generator) * 3.0 * 10.0**exponent
    z = z.clamp(-torch.finfo(torch.float32).max, torch.finfo(torch.float32).max)
    try:
        out = quantizer(z)
    except ValueError as error:  # LFQ and VQ at 1e30 returned an infinite loss without a word
        assert "overflows float32" in str(error)
        return
    assert torch.isfinite(out.loss)
    assert all(torch.isfinite(value).all() for value in out.stats.values())


@pytest.mark.parametrize("case", ["lfq", "vq-ema", "vq-grad"])
def test_inputs_of_magnitude_1e30_are_refused_by_lfq_and_vq(case):
    with pytest.raises(ValueError, match=r"entries up to 1e\+30 in magnitude"):
        make(case)(torch.full((2, make(case).dim), 1e30))
    assert torch.isfinite(make(case)(torch.full((2, make(case).dim), 1e15)).loss)


def test_multiscale_refuses_features_whose_loss_would_overflow():
    multiscale = MultiScaleResidualQuantizer(quantizers.build("bsq", dim=4), scales=(1, 2))
    with pytest.raises(ValueError, match="overflows float32"):  # mse(f̂, f) was inf
        multiscale(torch.full((1, 2, 2, 4), 1e30))
    assert torch.isfinite(multiscale(torch.full((1, 2, 2, 4), 1e15)).loss)


def _unusual_tensors(dim):
    dense = torch.randn(3, dim)
    return {"sparse": dense.to_sparse(), "sparse_csr": dense.to_sparse_csr(),
            "meta": torch.empty(3, dim, device="meta")}


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state")
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("kind", ["sparse", "sparse_csr", "meta"])
def test_sparse_and_meta_tensors_are_refused(case, kind):
    quantizer = make(case)
    z = _unusual_tensors(quantizer.dim)[kind]
    with pytest.raises(TypeError, match="dense tensor|meta device"):
        quantizer(z)
    with pytest.raises(TypeError, match="dense tensor|meta device"):
        quantizer.codes_to_indices(z)
    indices = torch.zeros(3, 2, dtype=torch.int64)
    indices = indices.to_sparse() if kind != "meta" else indices.to("meta")
    with pytest.raises(TypeError, match="dense tensor|meta device"):
        quantizer.indices_to_codes(indices)


@pytest.mark.parametrize("indices", [[[0]], [0, 1], "ab", (None, None), torch.zeros(2, 1, 1, dtype=torch.int64)])
def test_multiscale_codes_need_a_list_of_index_tensors(indices):
    multiscale = MultiScaleResidualQuantizer(quantizers.build("bsq", dim=4), scales=(1, 1))
    with pytest.raises(TypeError, match="list of index tensors"):  # was an AttributeError
        multiscale.indices_to_codes(indices)
    with pytest.raises(TypeError, match="dense tensor|meta device"):
        multiscale(torch.empty(1, 1, 1, 4, device="meta"))
