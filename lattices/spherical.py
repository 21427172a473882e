"""Spherical-code constructors (Λ24 and E8 shells, BSQ, spherical Fibonacci, random) and `by_name`.

Names understood by `by_name` (and used as `Codebook.name`):
  "leech"                 Λ24 first shell, 196,560 vectors, canonical order (docs/architecture.md)
  "e8-roots"              the 240 E8 roots, lexicographic order
  "e8-shells12"           E8 roots then the 2,160 norm-4 vectors: 2,400 normalized vectors
  "bsq-D"                 BSQ hypercube {±1}^D / √D, row i has x_k = +1 iff bit k of i is set
  "fibonacci-nN-dD"       N-point generalized spherical Fibonacci code on S^{D-1}
  "random-nN-dD[-sS]"     N normalized Gaussian vectors in R^D from seed S (default 0)

Generalized spherical Fibonacci code (`fibonacci`): point i of N gets the low-discrepancy point
u_i = ((i + ½)/N, {i α_1}, ..., {i α_{D-2}}) ∈ [0, 1)^{D-1}, where α_j = φ_{D-2}^{-j} and φ_s is the
generalized golden ratio, the positive root of x^{s+1} = x + 1 (Roberts' R_s sequence). With
hyperspherical angles θ_1..θ_{D-2} ∈ [0, π] of densities ∝ sin^{D-1-k}(θ_k) and an azimuth
θ_{D-1} ∈ [0, 2π), u_i is mapped coordinate-wise through the inverse CDFs: θ_k = F_{D-1-k}^{-1}(u_k)
and θ_{D-1} = 2π u_{D-2}. The CDF of sin^m on [0, π] is the regularized incomplete beta function
I_x((m+1)/2, (m+1)/2) with x = sin²(θ/2), so the inverse is exact via `scipy.special.betaincinv`,
and cos θ = 1 − 2x, sin θ = 2√(x(1−x)). For D = 3 this is the spherical Fibonacci point set
(González 2010, "Measurement of areas on a sphere using Fibonacci and latitude–longitude
lattices", Math. Geosci. 42; Keinert et al. 2015, "Spherical Fibonacci Mapping", ACM TOG 34(6));
for general D it is the hyperspherical mapping of Roberts' R_d sequence (M. Roberts 2018,
"The unreasonable effectiveness of quasirandom sequences", extremelearning.com.au), the same
inverse-CDF construction as "Fibonacci-like" point sets on S^d.
"""
from __future__ import annotations

import math
import re

import numpy as np
from scipy.optimize import brentq
from scipy.special import betaincinv

from lattices import e8, leech
from lattices.codebook import Codebook

MAX_BSQ_DIM = 24  # 2^24 codewords: the largest hypercube code materialized as an array


def _check_count(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def leech_shell() -> Codebook:
    """Λ24 first shell: the 196,560 minimal vectors / √32, in canonical order."""
    return Codebook.from_integer("leech", leech.minimal_vectors())


def e8_roots() -> Codebook:
    """The 240 E8 roots / √8 in lexicographic order."""
    return Codebook.from_integer("e8-roots", e8.roots())


def e8_shells12() -> Codebook:
    """E8 shells 1 and 2 (240 roots, then 2,160 norm-4 vectors), each normalized: 2,400 vectors."""
    return Codebook.from_integer("e8-shells12", np.concatenate([e8.roots(), e8.second_shell()]))


def bsq(dim: int) -> Codebook:
    """Binary spherical quantization codebook {±1}^dim / √dim; row i has +1 where bit k of i is 1."""
    dim = _check_count(dim, "dim")
    if dim > MAX_BSQ_DIM:
        raise ValueError(f"dim must be at most {MAX_BSQ_DIM} (2^dim codewords), got {dim}")
    bits = (np.arange(2**dim, dtype=np.int64)[:, None] >> np.arange(dim)) & 1
    return Codebook.from_integer(f"bsq-{dim}", (2 * bits - 1).astype(np.int8))


def generalized_golden_ratio(s: int) -> float:
    """φ_s: the unique positive root of x^{s+1} = x + 1 (φ_1 is the golden ratio).

    Solved by Brent's method in the logarithmic form (s+1)·ln x = ln(1 + x) on [1, 2], where the
    sign changes; x^{s+1} itself overflows float64 at 2 for s ≥ 1023.
    """
    s = _check_count(s, "s")
    return brentq(lambda x: (s + 1) * math.log(x) - math.log1p(x), 1.0, 2.0,
                  xtol=np.finfo(np.float64).tiny, rtol=4 * np.finfo(np.float64).eps)


def _sin_power_inverse_cdf(power: int, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cos θ, sin θ) for θ = F^{-1}(u), F the CDF of the density ∝ sin^power θ on [0, π]."""
    half = (power + 1) / 2.0
    x = betaincinv(half, half, u)
    return 1.0 - 2.0 * x, 2.0 * np.sqrt(x * (1.0 - x))


def fibonacci(n: int, dim: int) -> Codebook:
    """The N-point generalized spherical Fibonacci code on S^{dim-1} (see the module docstring)."""
    n = _check_count(n, "n")
    dim = _check_count(dim, "dim", minimum=2)
    index = np.arange(n, dtype=np.float64)
    first = (index + 0.5) / n
    if dim == 2:
        angle = 2.0 * np.pi * first
        return Codebook.from_float(f"fibonacci-n{n}-d{dim}", np.stack([np.cos(angle),
                                                                       np.sin(angle)], axis=1))
    kronecker_dims = dim - 2
    phi = generalized_golden_ratio(kronecker_dims)
    alphas = phi ** -np.arange(1, kronecker_dims + 1, dtype=np.float64)
    kronecker = np.mod(index[:, None] * alphas[None, :], 1.0)
    uniform = np.concatenate([first[:, None], kronecker], axis=1)  # (n, dim - 1)
    vectors = np.empty((n, dim), dtype=np.float64)
    sine_product = np.ones(n, dtype=np.float64)
    for k in range(dim - 2):  # polar angles θ_1..θ_{dim-2}: density sin^{dim-2-k}
        cos_theta, sin_theta = _sin_power_inverse_cdf(dim - 2 - k, uniform[:, k])
        vectors[:, k] = sine_product * cos_theta
        sine_product = sine_product * sin_theta
    azimuth = 2.0 * np.pi * uniform[:, dim - 2]
    vectors[:, dim - 2] = sine_product * np.cos(azimuth)
    vectors[:, dim - 1] = sine_product * np.sin(azimuth)
    return Codebook.from_float(f"fibonacci-n{n}-d{dim}", vectors)


def random_code(n: int, dim: int, seed: int = 0) -> Codebook:
    """N normalized standard Gaussian vectors in R^dim from numpy's default_rng(seed)."""
    n = _check_count(n, "n")
    dim = _check_count(dim, "dim")
    seed = _check_count(seed, "seed", minimum=0)
    vectors = np.random.default_rng(seed).standard_normal((n, dim))
    name = f"random-n{n}-d{dim}" + (f"-s{seed}" if seed else "")
    return Codebook.from_float(name, vectors)


_FIXED = {"leech": leech_shell, "e8-roots": e8_roots, "e8-shells12": e8_shells12}
_PATTERNS = (
    (re.compile(r"bsq-(\d+)"), lambda m: bsq(int(m[1]))),
    (re.compile(r"fibonacci-n(\d+)-d(\d+)"), lambda m: fibonacci(int(m[1]), int(m[2]))),
    (re.compile(r"random-n(\d+)-d(\d+)(?:-s(\d+))?"),
     lambda m: random_code(int(m[1]), int(m[2]), int(m[3] or 0))),
)


def by_name(name: str) -> Codebook:
    """The codebook for a name listed in the module docstring, e.g. "leech" or "bsq-18"."""
    if not isinstance(name, str):
        raise TypeError(f"codebook name must be a string, got {type(name).__name__}")
    if name in _FIXED:
        return _FIXED[name]()
    for pattern, build in _PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return build(match)
    raise ValueError(f"unknown codebook name {name!r}; expected one of {sorted(_FIXED)}, "
                     "'bsq-D', 'fibonacci-nN-dD' or 'random-nN-dD[-sS]'")
