"""Tests of Λ24 in √8 coordinates: membership, generator, minimal vectors and canonical order."""
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lattices import golay, leech

coefficient_vectors = st.lists(st.integers(-3, 3), min_size=24, max_size=24)


@pytest.fixture(scope="module")
def minimal():
    return leech.minimal_vectors()


def test_minimal_vectors_have_norm_32_and_are_members(minimal):
    assert minimal.shape == (196_560, 24)
    norms = np.einsum("ij,ij->i", minimal.astype(np.int64), minimal.astype(np.int64))
    assert (norms == 32).all()
    assert leech.is_member(minimal).all()


def test_shapes_come_in_the_documented_blocks(minimal):
    counts = (97_152, 98_304, 1_104)
    assert (leech.SHAPE_OCTAD_COUNT, leech.SHAPE_ODD_COUNT, leech.SHAPE_PAIR_COUNT) == counts
    magnitudes = np.sort(np.abs(minimal), axis=1)[:, ::-1]
    expected = ([2] * 8 + [0] * 16, [3] + [1] * 23, [4] * 2 + [0] * 22)
    shapes = leech.shape_of_index(np.arange(196_560))
    for shape, (offset, count, pattern) in enumerate(zip(leech.SHAPE_OFFSETS, counts, expected)):
        block = slice(offset, offset + count)
        assert (magnitudes[block] == pattern).all()
        assert (shapes[block] == shape).all()


def test_canonical_order_formulas(minimal):
    octad, mask = 5, 0b10000001  # entries on the octad's positions 0 and 7 are −2
    positions = golay.octads()[octad]
    vector = minimal[128 * octad + (mask >> 1)]
    assert vector[positions].tolist() == [-2, 2, 2, 2, 2, 2, 2, -2]
    codeword, j = 77, 9
    signs = 1 - 2 * golay.codewords()[codeword].astype(int)
    expected = signs * np.where(np.arange(24) == j, -3, 1)
    assert minimal[97_152 + 24 * codeword + j].tolist() == expected.tolist()
    pair_index = [(a, b) for a in range(24) for b in range(a + 1, 24)].index((2, 7))
    vector = minimal[195_456 + 4 * pair_index + 0b10]
    assert vector[2] == 4 and vector[7] == -4 and np.count_nonzero(vector) == 2


def test_index_and_vector_maps_are_inverse(minimal):
    # vector_to_index computes indices from the structure; a bijection also proves distinctness
    indices = np.arange(196_560)
    assert np.array_equal(leech.vector_to_index(minimal), indices)
    rng = np.random.default_rng(0)
    sample = rng.integers(0, 196_560, size=(7, 11))
    assert np.array_equal(leech.vector_to_index(leech.index_to_vector(sample)), sample)
    assert leech.vector_to_index(np.zeros((0, 24), dtype=np.int64)).shape == (0,)


def test_inner_products_between_minimal_vectors(minimal):
    # rows from all three shapes against the whole shell: the distance distribution of Λ24
    rows = np.concatenate([np.arange(0, 196_560, 4_913), [97_151, 97_152, 196_559]])
    gram = minimal[rows].astype(np.float32) @ minimal.T.astype(np.float32)
    for row in gram:
        values, counts = np.unique(row.astype(np.int64), return_counts=True)
        assert dict(zip(values.tolist(), counts.tolist())) == {
            -32: 1, -16: 4_600, -8: 47_104, 0: 93_150, 8: 47_104, 16: 4_600, 32: 1}


def test_generator_is_unimodular_even_and_generates_the_shell(minimal):
    basis = leech.generator_matrix()
    assert basis.shape == (24, 24) and np.array_equal(basis, np.triu(basis))
    gram = basis @ basis.T
    assert (gram % 8 == 0).all()
    unimodular = gram // 8
    assert (np.diag(unimodular) % 2 == 0).all()
    assert sympy.Matrix(unimodular.tolist()).det() == 1
    assert leech.is_member(basis).all()
    coordinates = np.linalg.solve(basis.T.astype(float), minimal.T.astype(float)).T
    assert np.abs(coordinates - np.rint(coordinates)).max() < 1e-9


@settings(max_examples=50, deadline=None)
@given(first=coefficient_vectors, second=coefficient_vectors)
def test_lattice_is_closed_under_sums_and_differences(first, second):
    basis = leech.generator_matrix()
    x, y = np.array(first) @ basis, np.array(second) @ basis
    assert leech.is_member(np.stack([x, y, x + y, x - y, 3 * x - 2 * y])).all()


@settings(max_examples=50, deadline=None)
@given(coefficients=coefficient_vectors, codeword=st.integers(0, 4095))
def test_membership_is_invariant_under_sign_changes_on_codeword_supports(coefficients, codeword):
    x = np.array(coefficients) @ leech.generator_matrix()
    signs = 1 - 2 * golay.codewords()[codeword].astype(np.int64)
    assert leech.is_member(signs * x)


@settings(max_examples=50, deadline=None)
@given(coefficients=coefficient_vectors, position=st.integers(0, 23),
       step=st.sampled_from([1, 2, 3, 4, 5, 6, 7, -1, -2, -4]))
def test_perturbed_lattice_vectors_are_rejected(coefficients, position, step):
    x = np.array(coefficients) @ leech.generator_matrix()
    x[position] += step
    assert not leech.is_member(x)
    x[position] += 8 - step  # 8·e_i lies in Λ24
    assert leech.is_member(x)


def test_small_non_members():
    identity = np.eye(24, dtype=np.int64)
    for k in range(1, 8):
        assert not leech.is_member(k * identity).any()
    assert leech.is_member(8 * identity).all()
    assert not leech.is_member(np.ones(24, dtype=np.int64))  # odd, but sum 24 ≢ 4 (mod 8)


@pytest.mark.parametrize("call, error", [
    (lambda: leech.is_member(np.zeros(24)), TypeError),
    (lambda: leech.is_member(np.zeros(23, dtype=np.int64)), ValueError),
    (lambda: leech.vector_to_index(np.ones(24, dtype=np.int64)), ValueError),
    (lambda: leech.vector_to_index(np.zeros((2, 24), dtype=np.int64)), ValueError),
    (lambda: leech.index_to_vector(np.array([196_560])), ValueError),
    (lambda: leech.index_to_vector(np.array([-1])), ValueError),
    (lambda: leech.index_to_vector(np.array([1.0])), TypeError),
    (lambda: leech.shape_of_index(np.array([0.5])), TypeError),
])
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()
