"""Tests of the E8 nearest-point and nearest-root decoders (doubled coordinates)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lattices import e8
from lattices.e8_decoder import nearest_point_numpy

PACKING_RADIUS = np.sqrt(2.0)  # half the minimal distance √8
COORDINATES = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)


def _random_lattice_points(rng: np.random.Generator, count: int) -> np.ndarray:
    coefficients = rng.integers(-3, 4, size=(count, e8.DIM))
    return coefficients @ e8.generator_matrix()


def _noise_inside(rng: np.random.Generator, count: int, radius: float) -> np.ndarray:
    directions = rng.normal(size=(count, e8.DIM))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return directions * radius * rng.uniform(0.0, 0.999, size=(count, 1))


def test_points_within_the_packing_radius_decode_to_their_lattice_point():
    rng = np.random.default_rng(0)
    centers = _random_lattice_points(rng, 20_000)
    decoded = e8.nearest_point(centers + _noise_inside(rng, centers.shape[0], PACKING_RADIUS))
    assert decoded.dtype == np.int64
    assert np.array_equal(decoded, centers)


def test_lattice_points_decode_to_themselves():
    centers = _random_lattice_points(np.random.default_rng(1), 5_000)
    assert np.array_equal(e8.nearest_point(centers.astype(np.float64)), centers)


def test_no_point_of_the_first_two_shells_around_the_decoded_point_is_closer():
    # The 240 roots are the Voronoi-relevant vectors; the 2160 norm-16 vectors are checked too.
    rng = np.random.default_rng(2)
    x = rng.normal(scale=3.0, size=(3_000, e8.DIM))
    decoded = e8.nearest_point(x)
    assert e8.is_member(decoded).all()
    residual = x - decoded
    shells = np.concatenate([e8.roots(), e8.second_shell()]).astype(np.float64)
    gain = 2.0 * residual @ shells.T - (shells**2).sum(axis=1)  # d(x,p)² − d(x,p+v)²
    assert gain.max() <= 1e-9


def test_numpy_reference_agrees_exactly():
    x = np.random.default_rng(3).normal(scale=5.0, size=(20_000, e8.DIM))
    assert np.array_equal(e8.nearest_point(x), nearest_point_numpy(x))


def test_coset_tie_goes_to_the_even_coset_and_shape_is_kept():
    halves = np.full((2, 3, e8.DIM), 0.5)  # equidistant (norm 2) from 0 and from (1, ..., 1)
    decoded = e8.nearest_point(halves)
    assert decoded.shape == (2, 3, e8.DIM)
    assert not decoded.any()


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, e8.DIM, elements=COORDINATES))
def test_decoded_point_is_a_member_with_residual_in_the_voronoi_cell(x):
    decoded = e8.nearest_point(x)
    assert e8.is_member(decoded)
    residual = x - decoded
    roots = e8.roots().astype(np.float64)
    assert (roots @ residual).max() <= e8.ROOT_NORM / 2 + 1e-9


def test_nearest_root_matches_brute_force_argmax():
    x = np.random.default_rng(4).normal(size=(5_000, e8.DIM)).astype(np.float32)
    expected = np.argmax(x.astype(np.float64) @ e8.roots().T.astype(np.float64), axis=1)
    assert np.array_equal(e8.nearest_root(x), expected)


def test_nearest_root_ties_go_to_the_lowest_index():
    roots = e8.roots()
    gram = roots @ roots.T
    i, j = np.nonzero(np.triu(gram == 4))  # pairs at 60°: r_i + r_j is equally close to both
    pairs = np.stack([i, j], axis=1)[::97]
    x = (roots[pairs[:, 0]] + roots[pairs[:, 1]]).astype(np.float64)
    assert np.array_equal(e8.nearest_root(x), pairs.min(axis=1))


def test_nearest_root_of_a_root_is_itself():
    assert np.array_equal(e8.nearest_root(e8.roots().astype(np.float64) * 0.3), np.arange(e8.NUM_ROOTS))


def test_nearest_root_of_huge_and_zero_vectors():
    direction = -np.ones((1, e8.DIM))  # (−1)^8 is a root (doubled coordinates) of the odd coset
    expected = np.argmax(direction @ e8.roots().T.astype(np.float64), axis=1)
    assert np.array_equal(e8.nearest_root(direction * 2.0**999), expected)  # scores stay finite
    with pytest.raises(ValueError, match="magnitude"):
        e8.nearest_root(direction * 1e308)  # its scores would overflow to -inf and tie
    assert np.array_equal(e8.nearest_root(np.zeros((2, e8.DIM))), [0, 0])  # all roots tie
