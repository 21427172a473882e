"""Tests of exact packing and center densities."""
import numpy as np
import pytest
import sympy

from lattices import density, e8, leech


def test_e8_and_leech_densities():
    basis = e8.generator_matrix()
    densities = density.lattice_densities(basis @ basis.T, 8)
    assert sympy.simplify(densities.packing - sympy.pi**4 / 384) == 0
    assert densities.center == sympy.Rational(1, 16)
    assert densities.packing_float == pytest.approx(np.pi**4 / 384, rel=1e-15)
    basis = leech.generator_matrix()
    densities = density.lattice_densities(basis @ basis.T, 32)
    assert sympy.simplify(densities.packing - sympy.pi**12 / sympy.factorial(12)) == 0
    assert densities.center == 1 and densities.center_float == 1.0


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_integer_lattice_packs_balls_of_radius_one_half(n):
    densities = density.lattice_densities(np.eye(n, dtype=np.int64), 1)
    ball = sympy.pi ** sympy.Rational(n, 2) / sympy.gamma(sympy.Rational(n, 2) + 1)
    assert sympy.simplify(densities.packing - ball / 2**n) == 0


def test_hexagonal_lattice():
    densities = density.lattice_densities(np.array([[2, 1], [1, 2]]), 2)
    assert sympy.simplify(densities.packing - sympy.pi / sympy.sqrt(12)) == 0


@pytest.mark.parametrize("gram, min_norm, error", [
    (np.eye(2), 1, TypeError),
    (np.array([[1, 2], [0, 1]]), 1, ValueError),
    (np.ones((2, 3), dtype=int), 1, ValueError),
    (np.array([[1, 2], [2, 1]]), 1, ValueError),
    (np.eye(2, dtype=int), 0, ValueError),
    (np.eye(2, dtype=int), 1.5, TypeError),
])
def test_bad_input_is_rejected(gram, min_norm, error):
    with pytest.raises(error):
        density.lattice_densities(gram, min_norm)
