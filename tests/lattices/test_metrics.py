"""Tests of δ_min, max cosine and neighbour counts against brute force and lattice values."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattices import e8, metrics, spherical


def _brute_force(vectors):
    """Max cosine, neighbour counts and (for small codes) the minimum distance, from full matrices."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    gram = unit @ unit.T
    np.fill_diagonal(gram, -np.inf)
    top = gram.max()
    counts = (gram >= top - 1e-12).sum(axis=1)
    if len(unit) > 500:
        return top, None, counts
    distances = np.linalg.norm(unit[:, None, :] - unit[None, :, :], axis=2)
    np.fill_diagonal(distances, np.inf)
    return top, distances.min(), counts


@pytest.fixture
def small_tiles(monkeypatch):
    monkeypatch.setattr(metrics, "TILE", 64)  # many tiles, partial last tiles, diagonal tiles


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 300), dim=st.integers(2, 12), seed=st.integers(0, 2**32 - 1))
def test_float_codes_match_brute_force(n, dim, seed):
    vectors = np.random.default_rng(seed).standard_normal((n, dim)) * 3.0
    for tile in (64, metrics.TILE):
        original, metrics.TILE = metrics.TILE, tile
        try:
            stats = metrics.neighbour_statistics(vectors)
        finally:
            metrics.TILE = original
        top, distance, counts = _brute_force(vectors)
        assert stats.max_cosine == pytest.approx(top, abs=1e-14)
        assert stats.delta_min == pytest.approx(distance, rel=1e-12, abs=1e-15)
        assert np.array_equal(stats.neighbour_counts, counts)
        assert not stats.exact and stats.exact_max_cosine is None


def test_ties_and_duplicates_in_float_codes(small_tiles):
    codebook = spherical.e8_shells12()
    stats = metrics.neighbour_statistics(codebook.vectors)
    top, _, counts = _brute_force(codebook.vectors)
    assert stats.max_cosine == pytest.approx(top) == pytest.approx(0.75)
    assert stats.delta_min == pytest.approx(math.sqrt(0.5))
    assert np.array_equal(stats.neighbour_counts, counts)
    assert (stats.neighbour_counts[:240] == 0).all() and (stats.neighbour_counts[240:] == 64).all()
    doubled = np.concatenate([codebook.vectors, codebook.vectors[:3]])
    stats = metrics.neighbour_statistics(doubled)
    assert stats.delta_min == 0.0 and stats.max_cosine == pytest.approx(1.0)
    assert stats.neighbour_counts.sum() == 6


def test_float_path_with_ties_on_every_row_in_small_chunks(small_tiles, monkeypatch):
    monkeypatch.setattr(metrics, "FLOAT64_CHUNK_ENTRIES", 1_000)  # 4 rows of 240 per chunk
    stats = metrics.neighbour_statistics(spherical.e8_roots().vectors)
    assert not stats.exact and (stats.neighbour_counts == 56).all()
    assert stats.delta_min == pytest.approx(1.0, abs=1e-15)
    assert stats.max_cosine == pytest.approx(0.5, abs=1e-15)


def test_e8_roots_are_exact(small_tiles):
    stats = metrics.codebook_statistics(spherical.e8_roots())
    assert stats.exact and stats.exact_max_cosine == Fraction(1, 2)
    assert stats.delta_min == 1.0 and stats.max_cosine == 0.5
    assert (stats.neighbour_counts == 56).all()
    assert metrics.delta_min(e8.roots()) == 1.0  # integer rows with one norm take the exact path


@pytest.mark.parametrize("dim", [2, 3, 8, 12])
def test_bsq_delta_min_is_2_over_sqrt_d(dim, small_tiles):
    stats = metrics.codebook_statistics(spherical.bsq(dim))
    assert stats.exact_max_cosine == Fraction(dim - 2, dim)
    assert stats.delta_min == pytest.approx(2 / math.sqrt(dim), rel=1e-15)
    assert (stats.neighbour_counts == dim).all()


@pytest.mark.slow
def test_bsq_18_delta_min_is_2_over_sqrt_18():
    stats = metrics.codebook_statistics(spherical.bsq(18))
    assert stats.exact_max_cosine == Fraction(16, 18)
    assert stats.delta_min == pytest.approx(2 / math.sqrt(18), rel=1e-15)
    assert stats.min_neighbours == 18 and stats.mean_neighbours == 18.0


@pytest.mark.slow
def test_leech_shell_is_exact_with_4600_neighbours():
    stats = metrics.codebook_statistics(spherical.leech_shell())
    assert stats.exact and stats.exact_max_cosine == Fraction(1, 2)
    assert stats.delta_min == 1.0
    assert stats.min_neighbours == 4_600 and stats.mean_neighbours == 4_600.0


@settings(max_examples=30, deadline=None)
@given(dim=st.integers(2, 9), seed=st.integers(0, 2**32 - 1), antipodal=st.booleans())
def test_integer_codes_match_brute_force(dim, seed, antipodal):
    rng = np.random.default_rng(seed)
    signs = np.unique(rng.choice([-1, 1], size=(rng.integers(2, 60), dim)), axis=0)
    vectors = np.unique(np.concatenate([signs, -signs]), axis=0) if antipodal else signs
    if len(vectors) < 2:
        return
    stats = metrics.neighbour_statistics(vectors)
    gram = vectors @ vectors.T
    np.fill_diagonal(gram, -dim - 1)
    top = gram.max()
    assert stats.exact and stats.exact_max_cosine == Fraction(int(top), dim)
    assert np.array_equal(stats.neighbour_counts, (gram == top).sum(axis=1))


def test_antipodal_codes_without_positive_inner_products():
    cross = np.concatenate([np.eye(4, dtype=np.int64), -np.eye(4, dtype=np.int64)])
    stats = metrics.neighbour_statistics(cross)
    assert stats.max_cosine == 0.0 and (stats.neighbour_counts == 6).all()
    stats = metrics.neighbour_statistics(np.array([[3, 4], [-3, -4]]))
    assert stats.max_cosine == -1.0 and stats.delta_min == 2.0


def test_integer_rows_of_different_norms_use_the_float_path():
    vectors = np.concatenate([e8.roots(), e8.second_shell()])
    stats = metrics.neighbour_statistics(vectors)
    assert not stats.exact and stats.max_cosine == pytest.approx(0.75)


def test_max_cosine_of_an_orthonormal_frame():
    assert metrics.max_cosine(np.eye(5)) == 0.0
    assert metrics.delta_min(np.eye(5)) == pytest.approx(math.sqrt(2))


@pytest.mark.parametrize("vectors, error", [
    (np.ones((1, 3)), ValueError),
    (np.ones(3), ValueError),
    (np.zeros((0, 3)), ValueError),
    (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError),
    (np.array([[0.0, 0.0], [0.0, 1.0]]), ValueError),
    (np.array([[0, 0], [0, 1]]), ValueError),
    (np.array([["a", "b"], ["c", "d"]]), TypeError),
    (np.array([[2**40, 0], [0, 2**40]]), ValueError),
])
def test_bad_input_is_rejected(vectors, error):
    with pytest.raises(error):
        metrics.neighbour_statistics(vectors)
