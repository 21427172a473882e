"""Tests of the exact Λ24 nearest-point decoder (√8 coordinates, minimal norm² 32)."""
from functools import lru_cache

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lattices import golay, leech
from lattices.leech_decoder import (COMPLEMENT, SECTION_LENGTH, nearest_point_exhaustive,
                                    trellis_tables)

PACKING_RADIUS = np.sqrt(8.0)  # half the minimal distance √32
SECOND_SHELL_NORM = 48


@lru_cache(maxsize=1)
def _minimal_vectors() -> np.ndarray:
    return leech.minimal_vectors().astype(np.float64)


@lru_cache(maxsize=1)
def _second_shell_sample() -> np.ndarray:
    """20,000 norm-48 vectors u + v from minimal vectors with ⟨u, v⟩ = −8 (random u, then v)."""
    rng = np.random.default_rng(11)
    minimal = _minimal_vectors()
    firsts = rng.choice(leech.NUM_MINIMAL, size=200, replace=False)
    inner = minimal @ minimal[firsts].T  # (196560, 200)
    sums = []
    for column, first in enumerate(firsts):
        partners = np.nonzero(inner[:, column] == -8)[0]
        sums.append(minimal[first] + minimal[rng.choice(partners, size=100, replace=False)])
    vectors = np.concatenate(sums).astype(np.int64)
    assert ((vectors**2).sum(axis=1) == SECOND_SHELL_NORM).all() and leech.is_member(vectors).all()
    return vectors.astype(np.float64)


def _random_lattice_points(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(-2, 3, size=(count, leech.DIM)) @ leech.generator_matrix()


def _largest_gain(x: np.ndarray, decoded: np.ndarray, shell: np.ndarray) -> float:
    """max over v in shell of d(x, p)² − d(x, p + v)² (positive: p + v is closer than p)."""
    residual = x - decoded
    half_norms = 0.5 * (shell**2).sum(axis=1)
    return max(float((2.0 * (residual[start:start + 64] @ shell.T) - 2.0 * half_norms).max())
               for start in range(0, residual.shape[0], 64))


def test_trellis_triples_with_section_complements_are_exactly_the_golay_code():
    tables = trellis_tables()
    words = tables.class_words[np.arange(3), tables.triples]  # (512, 3) representative words
    complements = (np.arange(8)[:, None] >> np.arange(3)) & 1  # (8, 3)
    all_words = words[:, None, :] ^ (COMPLEMENT * complements[None, :, :])  # (512, 8, 3)
    bits = (all_words.reshape(-1, 3)[:, :, None] >> np.arange(SECTION_LENGTH)) & 1
    codewords = np.zeros((bits.shape[0], leech.DIM), dtype=np.uint8)
    codewords[:, tables.order] = bits.reshape(-1, leech.DIM)
    assert np.array_equal(np.sort(golay.index_of(codewords)), np.arange(4096))


def test_points_within_the_packing_radius_decode_to_their_lattice_point():
    rng = np.random.default_rng(0)
    centers = _random_lattice_points(rng, 5_000)
    directions = rng.normal(size=centers.shape)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = PACKING_RADIUS * rng.uniform(0.9, 0.999, size=(centers.shape[0], 1))
    decoded = leech.nearest_point(centers + directions * radii)
    assert decoded.dtype == np.int64
    assert np.array_equal(decoded, centers)


def test_lattice_points_and_minimal_vectors_decode_to_themselves():
    # Integer inputs hit many exact rounding ties inside the decoder.
    centers = np.concatenate([_random_lattice_points(np.random.default_rng(1), 2_000),
                              leech.minimal_vectors()[::97].astype(np.int64)])
    assert np.array_equal(leech.nearest_point(centers.astype(np.float64)), centers)


def test_midpoints_of_minimal_vectors_are_decoded_at_the_tie_distance():
    minimal = leech.minimal_vectors()[::193].astype(np.float64)
    decoded = leech.nearest_point(0.5 * minimal)
    assert leech.is_member(decoded).all()
    assert np.allclose(((0.5 * minimal - decoded) ** 2).sum(axis=1), leech.MIN_NORM / 4)


def test_no_point_of_the_first_two_shells_around_the_decoded_point_is_closer():
    # Shells 1 and 2 hold all Voronoi-relevant vectors of Λ24: all 196,560 minimal vectors and a
    # 20,000 sample of norm-48 vectors are tried as p + v.
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(scale=4.0, size=(200, leech.DIM)),
                        _random_lattice_points(rng, 100) + rng.uniform(-4, 4, (100, leech.DIM))])
    decoded = leech.nearest_point(x)
    assert leech.is_member(decoded).all()
    assert _largest_gain(x, decoded, _minimal_vectors()) <= 1e-9
    assert _largest_gain(x, decoded, _second_shell_sample()) <= 1e-9


def test_exhaustive_numpy_decoder_over_all_8192_cosets_agrees():
    x = np.random.default_rng(3).normal(scale=6.0, size=(200, leech.DIM))
    assert np.array_equal(leech.nearest_point(x), nearest_point_exhaustive(x))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=leech.DIM, max_size=leech.DIM),
       hnp.arrays(np.float64, leech.DIM, elements=st.floats(-1.0, 1.0)))
def test_perturbed_lattice_points_decode_back(coefficients, noise):
    center = np.array(coefficients) @ leech.generator_matrix()
    norm = np.linalg.norm(noise)
    if norm > 0.999 * PACKING_RADIUS:
        noise *= 0.999 * PACKING_RADIUS / norm
    assert np.array_equal(leech.nearest_point(center + noise), center)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, leech.DIM, elements=st.floats(-40.0, 40.0)))
def test_arbitrary_points_decode_to_members_with_residual_in_the_voronoi_cell(x):
    decoded = leech.nearest_point(x)
    assert leech.is_member(decoded)
    assert (_minimal_vectors() @ (x - decoded)).max() <= leech.MIN_NORM / 2 + 1e-9
