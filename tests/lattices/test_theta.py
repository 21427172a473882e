"""Tests of the theta-series dynamic programs against enumeration, modular forms and PARI."""
import numpy as np
import pytest

from lattices import e8, leech, theta


def _sigma3(n):
    return sum(d**3 for d in range(1, n + 1) if n % d == 0)


def _series_product(a, b):
    return [sum(a[i] * b[k - i] for i in range(k + 1)) for k in range(len(a))]


def _eisenstein_e4(terms):
    return [1] + [240 * _sigma3(n) for n in range(1, terms)]


def _discriminant(terms):
    """Δ = q ∏ (1 − q^n)^24, truncated."""
    series = [1] + [0] * (terms - 1)
    for n in range(1, terms):
        factor = [0] * terms
        factor[0], factor[n] = 1, -1
        for _ in range(24):
            series = _series_product(series, factor)
    return [0] + series[:-1]


def test_e8_theta_matches_explicit_enumeration_and_e4():
    coefficients = theta.e8_theta(6)
    assert coefficients[:4] == [1, 240, 2_160, 6_720]
    assert coefficients == _eisenstein_e4(6)  # θ_E8 = E4
    for shell in range(1, 4):
        assert coefficients[shell] == len(e8.vectors_of_norm(8 * shell))


def test_leech_theta_matches_enumeration_and_e4_cubed_minus_720_delta():
    coefficients = theta.leech_theta(8)
    assert coefficients[:4] == [1, 0, 196_560, 16_773_120]
    assert coefficients[2] == len(leech.minimal_vectors())
    e4 = _eisenstein_e4(4)
    cubed = _series_product(_series_product(e4, e4), e4)
    delta = _discriminant(4)
    # θ_Λ24(q) in powers of q^2 (norms 0, 2, 4, ...) is E4³ − 720 Δ as a series in q
    expected = [c - 720 * d for c, d in zip(cubed, delta)]
    assert coefficients[:4] == expected
    assert coefficients[4:] == [398_034_000, 4_629_381_120, 34_417_656_000, 187_489_935_360]


def test_pari_qfminim_counts_the_leech_and_e8_minimal_vectors():
    cypari = pytest.importorskip("cypari")
    pari = cypari.pari
    basis = leech.generator_matrix()
    gram = (basis @ basis.T) // 8
    matrix = pari.matrix(24, 24, [int(v) for v in gram.flatten()])
    count, minimum, _ = pari.qfminim(matrix, 4, 0)  # norm ≤ 4; counts ±v as two vectors
    assert (int(count), int(minimum)) == (196_560, 4)
    assert int(pari.qfminim(matrix, 2, 0)[0]) == 0
    pari.allocatemem(2**28)
    vectors = pari.qfminim(matrix, 4)[2].mattranspose()  # one of each pair ±v: 98,280 columns
    coordinates = np.array(str(vectors).strip("[]").replace(";", ",").split(","), dtype=np.int64)
    half = coordinates.reshape(-1, 24) @ basis
    assert half.shape == (98_280, 24)
    indices = leech.vector_to_index(np.concatenate([half, -half]))
    assert np.array_equal(np.sort(indices), np.arange(196_560))
    basis = e8.generator_matrix()
    gram = (basis @ basis.T) // 4
    count, minimum, vectors = pari.qfminim(pari.matrix(8, 8, [int(v) for v in gram.flatten()]))
    assert (int(count), int(minimum), len(vectors)) == (240, 2, 120)


@pytest.mark.slow
def test_pari_counts_the_second_leech_shell():
    cypari = pytest.importorskip("cypari")
    basis = leech.generator_matrix()
    gram = (basis @ basis.T) // 8
    matrix = cypari.pari.matrix(24, 24, [int(v) for v in gram.flatten()])
    assert int(cypari.pari.qfminim(matrix, 6, 0)[0]) == 196_560 + theta.leech_theta(4)[3]


@pytest.mark.parametrize("call, error", [
    (lambda: theta.leech_theta(0), ValueError),
    (lambda: theta.e8_theta(-2), ValueError),
    (lambda: theta.e8_theta(2.0), TypeError),
])
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()
