"""Tests of E8 in doubled integer coordinates: shells, membership, generator."""
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lattices import e8

coefficient_vectors = st.lists(st.integers(-4, 4), min_size=8, max_size=8)


def _is_lexicographic(vectors):
    return all(tuple(a) < tuple(b) for a, b in zip(vectors[:-1].tolist(), vectors[1:].tolist()))


def test_roots():
    roots = e8.roots()
    assert roots.shape == (240, 8) and roots.dtype == np.int64
    assert (np.einsum("ij,ij->i", roots, roots) == 8).all()
    assert e8.is_member(roots).all()
    assert _is_lexicographic(roots)
    magnitudes = np.sort(np.abs(roots), axis=1)
    assert (magnitudes == [0] * 6 + [2, 2]).all(axis=1).sum() == 112  # ±e_i ± e_j, doubled
    assert (magnitudes == 1).all(axis=1).sum() == 128  # (±½)^8 with an even number of minus signs


def test_root_inner_products_and_neighbours():
    roots = e8.roots()
    gram = roots @ roots.T
    for row in gram:
        values, counts = np.unique(row, return_counts=True)
        assert dict(zip(values.tolist(), counts.tolist())) == {-8: 1, -4: 56, 0: 126, 4: 56, 8: 1}


def test_second_shell():
    shell = e8.second_shell()
    assert shell.shape == (2_160, 8)
    assert (np.einsum("ij,ij->i", shell, shell) == 16).all()
    assert e8.is_member(shell).all() and _is_lexicographic(shell)


def test_shells_agree_with_a_brute_force_scan():
    # every vector of norm² ≤ 24 has all entries even with |x_i| ≤ 4 or all odd with |x_i| ≤ 3
    boxes = [np.stack(np.meshgrid(*[values] * 8, indexing="ij"), axis=-1).reshape(-1, 8)
             for values in (np.arange(-4, 5, 2), np.arange(-3, 4, 2))]
    grid = np.concatenate(boxes)
    members = grid[e8.is_member(grid)]
    norms = np.einsum("ij,ij->i", members, members)
    for norm, count in ((0, 1), (8, 240), (16, 2_160), (24, 6_720)):
        assert (norms == norm).sum() == count == len(e8.vectors_of_norm(norm))


def test_generator_is_unimodular_and_even():
    basis = e8.generator_matrix()
    assert basis.shape == (8, 8) and np.array_equal(basis, np.triu(basis))
    gram = basis @ basis.T
    assert (gram % 4 == 0).all()
    assert (np.diag(gram // 4) % 2 == 0).all()
    assert sympy.Matrix((gram // 4).tolist()).det() == 1
    coordinates = np.linalg.solve(basis.T.astype(float), e8.roots().T.astype(float)).T
    assert np.abs(coordinates - np.rint(coordinates)).max() < 1e-9


@settings(max_examples=60, deadline=None)
@given(first=coefficient_vectors, second=coefficient_vectors)
def test_lattice_is_closed_under_sums_and_differences(first, second):
    basis = e8.generator_matrix()
    x, y = np.array(first) @ basis, np.array(second) @ basis
    assert e8.is_member(np.stack([x, y, x + y, x - y, 5 * x - 3 * y])).all()


@settings(max_examples=60, deadline=None)
@given(coefficients=coefficient_vectors, position=st.integers(0, 7), step=st.sampled_from([1, 2, 3, -1, -2]))
def test_perturbed_vectors_are_rejected(coefficients, position, step):
    x = np.array(coefficients) @ e8.generator_matrix()
    x[position] += step
    assert not e8.is_member(x)


def test_non_members():
    assert not e8.is_member(np.eye(8, dtype=np.int64)).any()
    assert not e8.is_member(2 * np.eye(8, dtype=np.int64)).any()
    assert e8.is_member(4 * np.eye(8, dtype=np.int64)).all()
    assert not e8.is_member(np.array([1, 1, 1, 1, 1, 1, 1, -1]))


@pytest.mark.parametrize("call, error", [
    (lambda: e8.is_member(np.zeros(8)), TypeError),
    (lambda: e8.is_member(np.zeros(7, dtype=np.int64)), ValueError),
    (lambda: e8.vectors_of_norm(-1), ValueError),
    (lambda: e8.vectors_of_norm(8.0), TypeError),
])
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()
