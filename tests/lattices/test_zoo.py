"""Tests of the lattice zoo: kissing numbers, determinants, densities, theta series, membership, PARI cross-checks."""
import numpy as np
import pytest
import sympy

from lattices import zoo

KISSING = {"d4": 24, "e6": 72, "e7": 126, "e8": 240, "k12": 756, "bw16": 4320, "leech24": 196560}
DETERMINANT = {"d4": 4, "e6": 3, "e7": 2, "e8": 1, "k12": 729, "bw16": 256, "leech24": 1}
CENTER_DENSITY = {"d4": sympy.Rational(1, 8), "e6": sympy.sqrt(3) / 24, "e7": sympy.Rational(1, 16),
                  "e8": sympy.Rational(1, 16), "k12": sympy.Rational(1, 27),
                  "bw16": sympy.Rational(1, 16), "leech24": sympy.Integer(1)}
# SPLAG ch. 4 (tables of theta series), usual scaling: {norm: count}
THETA = {"d4": {0: 1, 2: 24, 4: 24, 6: 96, 8: 24}, "e6": {0: 1, 2: 72, 4: 270, 6: 720, 8: 936},
         "e7": {0: 1, 2: 126, 4: 756, 6: 2072, 8: 4158}, "e8": {0: 1, 2: 240, 4: 2160, 6: 6720, 8: 17520},
         "k12": {0: 1, 4: 756, 6: 4032, 8: 20412}, "bw16": {0: 1, 4: 4320, 6: 61440, 8: 522720},
         "leech24": {0: 1, 4: 196560, 6: 16773120, 8: 398034000}}
SMALL = ("d4", "e6", "e7", "e8", "k12", "bw16")


@pytest.mark.parametrize("name", zoo.NAMES)
def test_minimal_vectors_are_distinct_members_of_one_norm(name):
    lattice = zoo.lattice(name)
    vectors = zoo.minimal_vectors(name)
    assert np.issubdtype(vectors.dtype, np.integer)
    assert vectors.shape == (KISSING[name], lattice.coordinate_dim)
    assert np.unique(vectors, axis=0).shape[0] == KISSING[name]
    assert set(np.einsum("ij,ij->i", vectors.astype(np.int64), vectors)) == {lattice.min_norm}
    assert lattice.is_member(vectors).all()
    assert np.array_equal(np.unique(-vectors.astype(np.int64), axis=0),
                          np.unique(vectors.astype(np.int64), axis=0))


@pytest.mark.parametrize("name", zoo.NAMES)
def test_determinant_density_and_theta_series(name):
    lattice = zoo.lattice(name)
    assert lattice.determinant() == DETERMINANT[name]
    assert sympy.simplify(lattice.densities().center - CENTER_DENSITY[name]) == 0
    assert lattice.theta_coefficients(8) == THETA[name]
    assert lattice.kissing_number == THETA[name][lattice.min_norm // lattice.norm_divisor]


@pytest.mark.parametrize("name", SMALL)
def test_minimal_vectors_generate_the_defined_lattice(name):
    lattice = zoo.lattice(name)
    basis = lattice.generator_matrix()
    assert lattice.is_member(basis).all()
    coordinates, *_ = np.linalg.lstsq(basis.T.astype(float), zoo.minimal_vectors(name).T.astype(float),
                                      rcond=None)
    assert np.abs(coordinates - np.round(coordinates)).max() < 1e-9  # minimal vectors in the lattice
    from lattices.integer_lattice import row_basis

    spanned = row_basis(zoo.minimal_vectors(name))
    assert sympy.Matrix((spanned @ spanned.T).tolist()).det() == sympy.Matrix(
        lattice.gram_matrix().tolist()).det()  # same determinant: they span the whole lattice


@pytest.mark.parametrize("name", SMALL)
def test_membership_rejects_non_lattice_points(name):
    lattice = zoo.lattice(name)
    rng = np.random.default_rng(7)
    basis = lattice.generator_matrix()
    points = rng.integers(-3, 4, size=(200, lattice.rank)) @ basis
    assert lattice.is_member(points).all()
    shifted = points.copy()
    shifted[:, 0] += 1  # e_0 is in none of these lattices (D4: odd sum, others: parity / plane)
    assert not lattice.is_member(shifted).any()


@pytest.mark.parametrize("name", SMALL)
def test_pari_qfminim_agrees_on_the_gram_matrix(name):
    cypari = pytest.importorskip("cypari")
    pari = cypari.pari
    lattice = zoo.lattice(name)
    gram = lattice.gram_matrix()
    matrix = pari.matrix(lattice.rank, lattice.rank, [int(v) for v in gram.flatten()])
    count, minimum, _ = pari.qfminim(matrix, lattice.min_norm, 0)
    assert (int(count), int(minimum)) == (KISSING[name], lattice.min_norm)
    below_second = pari.qfminim(matrix, (THETA_SECOND[name]) * lattice.norm_divisor, 0)[0]
    theta = lattice.theta_coefficients(THETA_SECOND[name])
    assert int(below_second) == sum(theta.values()) - 1


THETA_SECOND = {"d4": 4, "e6": 4, "e7": 4, "e8": 4, "k12": 6, "bw16": 6}


@pytest.mark.parametrize("call, error", [
    (lambda: zoo.minimal_vectors("a2"), ValueError),
    (lambda: zoo.minimal_vectors(8), TypeError),
    (lambda: zoo.lattice("d4").is_member(np.zeros((2, 5), dtype=np.int64)), ValueError),
    (lambda: zoo.lattice("k12").is_member(np.zeros((2, 18))), TypeError),
    (lambda: zoo.lattice("e7").theta_coefficients(-1), ValueError),
])
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()
