"""Tests of the Levenshtein and Delsarte LP bounds on the largest inner product of spherical codes."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattices.bounds import levenshtein_bound, lp_bound, max_cosine_lower_bound

LP_SOLVER_TOLERANCE = 1e-5  # HiGHS feasibility tolerances move the LP optimum by ~1e-6


def test_levenshtein_is_tight_for_the_e8_roots_and_the_leech_shell():
    assert levenshtein_bound(8, 0.5) == pytest.approx(240, rel=1e-12)
    assert levenshtein_bound(24, 0.5) == pytest.approx(196_560, rel=1e-12)
    assert max_cosine_lower_bound(8, 240, "levenshtein") == pytest.approx(0.5, abs=1e-9)
    assert max_cosine_lower_bound(24, 196_560, "levenshtein") == pytest.approx(0.5, abs=1e-9)


def test_lp_is_tight_for_the_e8_roots_and_the_leech_shell():
    assert max_cosine_lower_bound(8, 240, "lp") == pytest.approx(0.5, abs=LP_SOLVER_TOLERANCE)
    assert max_cosine_lower_bound(24, 196_560, "lp") == pytest.approx(0.5, abs=LP_SOLVER_TOLERANCE)
    assert lp_bound(8, 0.5) >= 240  # a valid bound never falls below an existing code


def test_simplex_and_cross_polytope_are_tight():
    assert max_cosine_lower_bound(5, 6, "levenshtein") == pytest.approx(-1 / 5, abs=1e-9)
    assert max_cosine_lower_bound(6, 12, "levenshtein") == pytest.approx(0.0, abs=1e-9)
    assert max_cosine_lower_bound(6, 12, "lp") == pytest.approx(0.0, abs=LP_SOLVER_TOLERANCE)


def test_lp_bound_is_monotone_in_n_beats_levenshtein_for_24_points_in_4d_and_stays_below_d4():
    lp = [max_cosine_lower_bound(4, n, "lp") for n in (12, 24)]
    assert lp[0] < lp[1] <= 0.5  # the D4 roots attain 1/2
    assert max_cosine_lower_bound(4, 24, "levenshtein") < lp[1]


@settings(max_examples=15, deadline=None)
@given(dim=st.integers(3, 24), n=st.integers(2, 5000))
def test_levenshtein_bound_is_monotone_in_n_and_below_one(dim, n):
    smaller = max_cosine_lower_bound(dim, n, "levenshtein")
    larger = max_cosine_lower_bound(dim, 2 * n, "levenshtein")
    assert -1.0 <= smaller <= larger < 1.0


@pytest.mark.parametrize("call, error", [
    (lambda: max_cosine_lower_bound(0, 10), ValueError),
    (lambda: max_cosine_lower_bound(8, 0), ValueError),
    (lambda: max_cosine_lower_bound(8, 1), ValueError),
    (lambda: max_cosine_lower_bound(8, 2.5), TypeError),
    (lambda: max_cosine_lower_bound(8, 240, "simplex"), ValueError),
    (lambda: levenshtein_bound(8, 1.0), ValueError),
    (lambda: lp_bound(8, math.nan), ValueError),
    (lambda: levenshtein_bound(8, -1.5), ValueError),
])
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()
