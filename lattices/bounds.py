"""Lower bounds on the largest inner product of N-point spherical codes: Levenshtein and Delsarte LP.

For an N-point code on S^{dim−1} whose distinct points have inner products ≤ s, both bounds give
N ≤ B(dim, s); `max_cosine_lower_bound(dim, n, method)` inverts them: the smallest s with
B(dim, s) ≥ n, which no n-point code in dim dimensions can beat.

* Levenshtein (V. I. Levenshtein, "On bounds for packings in n-dimensional Euclidean space",
  Soviet Math. Dokl. 20 (1979) 417–421; "Designs as maximum codes in polynomial metric spaces",
  Acta Appl. Math. 29 (1992) 1–82), in the form of Boyvalenkov, Danev & Bumova, IEEE Trans.
  Inform. Theory 42 (1996) 1576–1581: with P_k the Gegenbauer polynomials normalized to P_k(1) = 1
  (Jacobi (α, α), α = (dim−3)/2) and t_k^{a,b} the largest zero of the Jacobi polynomial
  P_k^{(α+a, α+b)}, t_0^{1,1} = −1,
    L_{2k−1}(s) = C(k+dim−3, k−1) [ (2k+dim−3)/(dim−1) − (P_{k−1}(s) − P_k(s)) / ((1−s) P_k(s)) ]
                  on [t_{k−1}^{1,1}, t_k^{1,0}],
    L_{2k}(s)   = C(k+dim−2, k) [ (2k+dim−1)/(dim−1)
                  − (1+s)(P_k(s) − P_{k+1}(s)) / ((1−s)(P_k(s) + P_{k+1}(s))) ] on [t_k^{1,0}, t_k^{1,1}].
* Delsarte–Goethals–Seidel linear programming ("Spherical codes and designs", Geom. Dedicata 6
  (1977) 363–388): N ≤ f(1)/f_0 for every f = Σ_k f_k P_k with f_0 > 0, f_k ≥ 0 (k ≥ 1) and
  f(t) ≤ 0 on [−1, s]. `scipy.optimize.linprog` (HiGHS) minimizes f(1) with f_0 = 1 over degree
  ≤ LP_DEGREE, the constraint imposed on LP_GRID points of [−1, s]; the local maxima of the
  solution on [−1, s] (critical points of its exact Chebyshev interpolant) where it is positive
  are added to the grid and the LP solved again (cutting planes, at most LP_REFINEMENTS times).
  The result is made rigorous: its largest value ε on [−1, s] is subtracted, and
  N ≤ (f(1) − ε)/(1 − ε) is the bound used.
The inverse is found by bisection on s (both bounds increase with s), to BISECTION_TOLERANCE.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.polynomial import Chebyshev
from scipy.optimize import brentq, linprog
from scipy.special import comb, eval_jacobi, roots_jacobi

METHODS = ("lp", "levenshtein")
LP_DEGREE = 32
LP_GRID = 400
LP_REFINEMENTS = 4
LP_EXCESS_TOLERANCE = 1e-9
MAX_LEVENSHTEIN_DEGREE = 400
BISECTION_TOLERANCE = 1e-10


def _check_int(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def gegenbauer(k: int, dim: int, t: np.ndarray) -> np.ndarray:
    """P_k(t) of S^{dim−1} normalized to P_k(1) = 1 (Jacobi (α, α), α = (dim − 3)/2)."""
    alpha = (dim - 3) / 2.0
    return eval_jacobi(k, alpha, alpha, t) / eval_jacobi(k, alpha, alpha, 1.0)


@lru_cache(maxsize=None)
def _largest_zero(k: int, a: float, b: float) -> float:
    if k == 0:
        return -1.0
    return float(roots_jacobi(k, a, b)[0].max())


def levenshtein_bound(dim: int, s: float) -> float:
    """Levenshtein's upper bound on the size of a code on S^{dim−1} with inner products ≤ s."""
    dim = _check_int(dim, "dim", 2)
    if not (isinstance(s, (float, int, np.floating)) and math.isfinite(s) and -1.0 <= s < 1.0):
        raise ValueError(f"s must be a finite inner product in [-1, 1), got {s!r}")
    alpha = (dim - 3) / 2.0
    for k in range(1, MAX_LEVENSHTEIN_DEGREE + 1):
        odd_end = _largest_zero(k, alpha + 1, alpha)
        if s <= odd_end:
            p_previous, p_k = gegenbauer(k - 1, dim, s), gegenbauer(k, dim, s)
            return float(comb(k + dim - 3, k - 1, exact=True)
                         * ((2 * k + dim - 3) / (dim - 1) - (p_previous - p_k) / ((1 - s) * p_k)))
        if s <= _largest_zero(k, alpha + 1, alpha + 1):
            p_k, p_next = gegenbauer(k, dim, s), gegenbauer(k + 1, dim, s)
            return float(comb(k + dim - 2, k, exact=True)
                         * ((2 * k + dim - 1) / (dim - 1)
                            - (1 + s) * (p_k - p_next) / ((1 - s) * (p_k + p_next))))
    raise ValueError(f"s = {s} needs a Levenshtein polynomial of degree above "
                     f"{2 * MAX_LEVENSHTEIN_DEGREE} in dimension {dim}")


def lp_bound(dim: int, s: float, degree: int = LP_DEGREE) -> float:
    """Delsarte–Goethals–Seidel LP bound (made rigorous, see the module docstring) on the size of a
    code on S^{dim−1} with inner products ≤ s; inf when no admissible polynomial of that degree exists."""
    dim = _check_int(dim, "dim", 2)
    degree = _check_int(degree, "degree", 1)
    if not (isinstance(s, (float, int, np.floating)) and math.isfinite(s) and -1.0 <= s < 1.0):
        raise ValueError(f"s must be a finite inner product in [-1, 1), got {s!r}")
    nodes = np.cos(np.linspace(np.pi, 0.0, LP_GRID))  # Chebyshev-spaced in [-1, 1]
    grid = -1.0 + (nodes + 1.0) * (s + 1.0) / 2.0
    excess = math.inf
    for _ in range(LP_REFINEMENTS):
        coefficients = _solve_lp(dim, grid, degree)
        if coefficients is None:
            return math.inf
        points, values = _maxima_on(dim, coefficients, s)
        excess = max(0.0, float(values.max()))
        if excess < LP_EXCESS_TOLERANCE:
            break
        grid = np.concatenate([grid, points[values > 0]])  # cutting planes at the violations
    if excess >= 1.0:
        return math.inf
    return (float(_polynomial(dim, coefficients, 1.0)) - excess) / (1.0 - excess)


def _solve_lp(dim: int, grid: np.ndarray, degree: int) -> np.ndarray | None:
    """Coefficients f_1..f_degree minimizing Σ f_k with 1 + Σ f_k P_k(t) ≤ 0 on the grid, f_k ≥ 0."""
    values = np.stack([gegenbauer(k, dim, grid) for k in range(1, degree + 1)], axis=1)
    result = linprog(c=np.ones(degree), A_ub=values, b_ub=-np.ones(grid.size), bounds=(0, None),
                     method="highs")
    return result.x if result.status == 0 else None


def _polynomial(dim: int, coefficients: np.ndarray, t):
    """f(t) = 1 + Σ_k f_k P_k(t)."""
    return 1.0 + sum(c * gegenbauer(k, dim, t) for k, c in enumerate(coefficients, start=1))


def _maxima_on(dim: int, coefficients: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The end points of [−1, s] and the critical points inside (from the exact Chebyshev
    interpolant of f, of the same degree), with the values of f there."""
    if s <= -1.0:
        points = np.array([-1.0])
    else:
        interpolant = Chebyshev.interpolate(lambda t: _polynomial(dim, coefficients, t),
                                            coefficients.size, domain=[-1.0, s])
        critical = interpolant.deriv().roots()
        critical = critical[np.abs(critical.imag) < 1e-12].real
        critical = critical[(critical >= -1.0) & (critical <= s)]
        points = np.concatenate([[-1.0, s], critical])
    return points, _polynomial(dim, coefficients, points)


def _upper_brackets(dim: int, method: str):
    """Increasing inner products s < 1 to bracket the inverse: the Levenshtein break points
    t_k^{1,1}, or 1 − 2^{−j} for the LP bound."""
    if method == "levenshtein":
        alpha = (dim - 3) / 2.0
        return (_largest_zero(k, alpha + 1, alpha + 1) for k in range(1, MAX_LEVENSHTEIN_DEGREE + 1))
    return (1.0 - 2.0**-j for j in range(0, 30))


def max_cosine_lower_bound(dim: int, n: int, method: str = "lp") -> float:
    """The smallest largest inner product that any n-point code on S^{dim−1} can have, by the
    Levenshtein or the Delsarte LP bound: the smallest s with bound(dim, s) ≥ n."""
    if method not in METHODS:
        raise ValueError(f"unknown bound method {method!r}; expected one of {METHODS}")
    dim = _check_int(dim, "dim", 2)
    n = _check_int(n, "n", 2)
    bound = levenshtein_bound if method == "levenshtein" else lp_bound
    low = -1.0
    if bound(dim, low) >= n:
        return low
    for high in _upper_brackets(dim, method):
        if bound(dim, high) >= n:
            break
        low = high
    else:
        raise ValueError(f"n = {n} is beyond the range of the {method} bound in dimension {dim}")
    return float(brentq(lambda s: bound(dim, s) - n, low, high, xtol=BISECTION_TOLERANCE))
