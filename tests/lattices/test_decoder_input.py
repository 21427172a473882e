"""Bad-input handling shared by the E8 and Λ24 decoders."""
import numpy as np
import pytest

from lattices import e8, leech
from lattices.e8_decoder import nearest_point_numpy
from lattices.leech_decoder import nearest_point_exhaustive

DECODERS = [
    pytest.param(e8.nearest_point, 8, id="e8.nearest_point"),
    pytest.param(nearest_point_numpy, 8, id="e8.nearest_point_numpy"),
    pytest.param(e8.nearest_root, 8, id="e8.nearest_root"),
    pytest.param(leech.nearest_point, 24, id="leech.nearest_point"),
    pytest.param(nearest_point_exhaustive, 24, id="leech.nearest_point_exhaustive"),
]


@pytest.mark.parametrize("decode, dim", DECODERS)
@pytest.mark.parametrize("bad, error, message", [
    (lambda dim: np.full((2, dim), np.nan), ValueError, "non-finite"),
    (lambda dim: np.full((2, dim), np.inf), ValueError, "non-finite"),
    (lambda dim: np.zeros((2, dim + 1)), ValueError, "last dimension"),
    (lambda dim: np.zeros(()), ValueError, "last dimension"),
    (lambda dim: np.zeros((0, dim)), ValueError, "empty"),
    (lambda dim: np.zeros((2, dim), dtype=np.int64), TypeError, "floating-point"),
    (lambda dim: np.zeros((2, dim), dtype=bool), TypeError, "floating-point"),
])
def test_bad_input_is_rejected_with_a_clear_error(decode, dim, bad, error, message):
    with pytest.raises(error, match=message):
        decode(bad(dim))


@pytest.mark.parametrize("decode, dim", DECODERS)
def test_float32_and_batched_shapes_are_accepted(decode, dim):
    x = np.random.default_rng(0).normal(size=(2, 3, dim))
    result = decode(x.astype(np.float32))
    assert result.dtype == np.int64
    assert result.shape[:2] == (2, 3)
    assert np.array_equal(result, decode(x.astype(np.float32).astype(np.float64)))


POINT_DECODERS = [param for param in DECODERS if "root" not in param.id]


@pytest.mark.parametrize("decode, dim", POINT_DECODERS)
def test_entries_beyond_the_int64_safe_range_are_rejected(decode, dim):
    with pytest.raises(ValueError, match="magnitude"):
        decode(np.full((1, dim), 1e19))  # used to wrap around int64 (or return 0 for larger values)


@pytest.mark.parametrize("decode, dim", POINT_DECODERS)
def test_largest_accepted_entries_decode_to_the_lattice_point_itself(decode, dim):
    point = np.full((1, dim), 2.0**51)  # 2^51·1 lies in E8 and in Λ24 (all ≡ 0 mod 4, sum ≡ 0 mod 8)
    assert np.array_equal(decode(point), point.astype(np.int64))
