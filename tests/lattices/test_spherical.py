"""Tests of the Codebook type and the spherical-code constructors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattices import spherical
from lattices.codebook import Codebook


@pytest.mark.parametrize("name, size, dim, scale_squared", [
    ("leech", 196_560, 24, 32),
    ("e8-roots", 240, 8, 8),
    ("e8-shells12", 2_400, 8, None),
    ("bsq-16", 65_536, 16, 16),
])
def test_lattice_codebooks_have_the_expected_size_and_integer_form(name, size, dim, scale_squared):
    codebook = spherical.by_name(name)
    assert (codebook.name, codebook.size, codebook.dim) == (name, size, dim)
    assert codebook.bits == pytest.approx(math.log2(size))
    assert codebook.integer_vectors.shape == (size, dim)
    assert np.allclose(np.linalg.norm(codebook.vectors, axis=1), 1.0, atol=1e-12)
    if scale_squared is None:
        assert codebook.scale is None
    else:
        assert codebook.scale == pytest.approx(math.sqrt(scale_squared))
        assert np.array_equal(np.rint(codebook.vectors * codebook.scale), codebook.integer_vectors)
    assert len(np.unique(codebook.integer_vectors, axis=0)) == size


def test_bsq_rows_follow_the_bit_convention():
    codebook = spherical.bsq(3)
    assert codebook.integer_vectors[0].tolist() == [-1, -1, -1]
    assert codebook.integer_vectors[0b110].tolist() == [-1, 1, 1]


def test_generalized_golden_ratios_solve_their_equation():
    assert spherical.generalized_golden_ratio(1) == pytest.approx((1 + math.sqrt(5)) / 2, abs=1e-15)
    for s in (2, 5, 22):
        phi = spherical.generalized_golden_ratio(s)
        assert phi ** (s + 1) == pytest.approx(phi + 1, rel=1e-14)


def test_fibonacci_on_s2_is_the_classical_spherical_fibonacci_set():
    n = 101
    vectors = spherical.fibonacci(n, 3).vectors
    i = np.arange(n)
    z = 1 - (2 * i + 1) / n  # González 2010: heights uniform in z, azimuth 2π i / φ
    azimuth = 2 * np.pi * np.mod(i * 2 / (1 + math.sqrt(5)), 1.0)
    expected = np.stack([z, np.sqrt(1 - z**2) * np.cos(azimuth),
                         np.sqrt(1 - z**2) * np.sin(azimuth)], axis=1)
    assert np.allclose(vectors, expected, atol=1e-12)


def test_fibonacci_codes_are_nearly_uniform_in_24_dimensions():
    vectors = spherical.fibonacci(20_000, 24).vectors
    # a uniform distribution on S^23 has mean 0 and second moments 1/24 per coordinate
    assert np.abs(vectors.mean(axis=0)).max() < 5e-3
    assert np.allclose((vectors**2).mean(axis=0), 1 / 24, atol=2e-3)
    assert len(np.unique(vectors, axis=0)) == 20_000


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 300), dim=st.integers(2, 30), seed=st.integers(0, 2**32))
def test_float_codes_have_unit_rows_and_round_trip_their_names(n, dim, seed):
    for codebook in (spherical.fibonacci(n, dim), spherical.random_code(n, dim, seed=seed)):
        assert codebook.vectors.shape == (n, dim)
        assert codebook.integer_vectors is None and codebook.scale is None
        assert np.allclose(np.linalg.norm(codebook.vectors, axis=1), 1.0, atol=1e-12)
        assert np.array_equal(spherical.by_name(codebook.name).vectors, codebook.vectors)


def test_random_codes_depend_on_the_seed_only():
    assert np.array_equal(spherical.random_code(50, 4, seed=3).vectors,
                          spherical.random_code(50, 4, seed=3).vectors)
    assert not np.array_equal(spherical.random_code(50, 4, seed=3).vectors,
                              spherical.random_code(50, 4, seed=4).vectors)


@pytest.mark.parametrize("call, error", [
    (lambda: spherical.fibonacci(0, 24), ValueError),
    (lambda: spherical.fibonacci(10, 1), ValueError),
    (lambda: spherical.fibonacci(10.0, 3), TypeError),
    (lambda: spherical.random_code(-1, 24), ValueError),
    (lambda: spherical.random_code(5, 0), ValueError),
    (lambda: spherical.random_code(5, 3, seed=-2), ValueError),
    (lambda: spherical.bsq(0), ValueError),
    (lambda: spherical.bsq(25), ValueError),
    (lambda: spherical.bsq(True), TypeError),
    (lambda: spherical.by_name("leech48"), ValueError),
    (lambda: spherical.by_name(3), TypeError),
])
def test_bad_constructor_arguments_are_rejected(call, error):
    with pytest.raises(error):
        call()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(name="x", vectors=np.ones((3, 2))), ValueError, "unit norm"),
    (dict(name="x", vectors=np.array([[1.0, np.nan]])), ValueError, "non-finite"),
    (dict(name="x", vectors=np.ones(3)), ValueError, "2-D"),
    (dict(name="x", vectors=np.zeros((0, 3))), ValueError, "empty"),
    (dict(name="x", vectors=np.eye(2, dtype=np.int64)), TypeError, "floating"),
    (dict(name="", vectors=np.eye(2)), ValueError, "name"),
    (dict(name="x", vectors=np.eye(2), scale=1.0), ValueError, "scale"),
    (dict(name="x", vectors=np.eye(2), integer_vectors=np.eye(2) * 2), TypeError, "integer"),
    (dict(name="x", vectors=np.eye(2), integer_vectors=np.eye(2, dtype=int)[::-1]),
     ValueError, "normalized"),
    (dict(name="x", vectors=np.eye(2), integer_vectors=np.eye(2, dtype=int), scale=2.0),
     ValueError, "scale"),
])
def test_invalid_codebooks_are_rejected(kwargs, error, message):
    with pytest.raises(error, match=message):
        Codebook(**kwargs)


def test_codebook_arrays_are_read_only_copies():
    source = np.eye(3)
    codebook = Codebook("eye", source)
    source[0, 0] = 5.0
    assert codebook.vectors[0, 0] == 1.0
    with pytest.raises(ValueError):
        codebook.vectors[0, 0] = 2.0


def test_from_float_normalizes_and_rejects_zero_rows():
    codebook = Codebook.from_float("two", np.array([[3.0, 4.0], [0.0, -2.0]]))
    assert np.allclose(codebook.vectors, [[0.6, 0.8], [0.0, -1.0]])
    with pytest.raises(ValueError, match="zero rows"):
        Codebook.from_float("zero", np.array([[0.0, 0.0], [1.0, 0.0]]))
