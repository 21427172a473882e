"""Exactness of the numba Λ24 nearest-minimal search against float64 brute force."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lattices import golay, leech
from lattices.leech_search import nearest_minimal, search_tables
from tests.search_reference import adversarial_inputs, blas_argmax, sequential_argmax


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_inputs_match_float64_brute_force(dtype):
    z = np.random.default_rng(1).standard_normal((2000, 24)).astype(dtype)
    np.testing.assert_array_equal(nearest_minimal(z), blas_argmax(z))


def test_adversarial_inputs_match_sequential_float64_argmax():
    for name, z in adversarial_inputs(np.random.default_rng(2)).items():
        np.testing.assert_array_equal(nearest_minimal(z), sequential_argmax(z), err_msg=name)


def test_float32_near_overflow_inputs():
    z = (np.random.default_rng(3).standard_normal((16, 24)) * 1e38).astype(np.float32)
    np.testing.assert_array_equal(nearest_minimal(z), sequential_argmax(z))


def test_minimal_vectors_map_to_themselves():
    vectors = leech.minimal_vectors()
    picks = np.random.default_rng(4).integers(0, len(vectors), size=500)
    np.testing.assert_array_equal(nearest_minimal(vectors[picks].astype(np.float32)), picks)


def test_zero_vector_maps_to_index_zero():
    assert nearest_minimal(np.zeros((3, 24), dtype=np.float32)).tolist() == [0, 0, 0]


def test_shapes():
    z = np.random.default_rng(5).standard_normal((2, 3, 24))
    indices = nearest_minimal(z)
    assert indices.shape == (2, 3) and indices.dtype == np.int64
    np.testing.assert_array_equal(indices.reshape(-1), nearest_minimal(z.reshape(-1, 24)))
    assert nearest_minimal(z[0, 0]).shape == ()


@pytest.mark.parametrize(
    ("z", "error"),
    [
        (np.full((2, 24), np.nan), ValueError),
        (np.full((2, 24), np.inf, dtype=np.float32), ValueError),
        (np.zeros((2, 23)), ValueError),
        (np.zeros((0, 24)), ValueError),
        (np.ones((2, 24), dtype=np.int64), TypeError),
        (np.ones((2, 24), dtype=np.float16), TypeError),
        (np.full((1, 24), 2.0**1001), ValueError),
    ],
)
def test_bad_inputs_raise(z, error):
    with pytest.raises(error):
        nearest_minimal(z)


def test_gray_walk_visits_every_codeword_once():
    tables = search_tables()
    assert sorted(tables.gray_canonical.tolist()) == list(range(4096))
    np.testing.assert_array_equal(golay.codeword_ints()[tables.gray_canonical], tables.gray_masks)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, 24, elements=st.sampled_from([-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])))
def test_tie_heavy_vectors_match_sequential_argmax(z):
    assert nearest_minimal(z[None])[0] == sequential_argmax(z[None])[0]
