"""Brute-force references for the Λ24 nearest-minimal search tests, and adversarial inputs."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from lattices import leech


@lru_cache(maxsize=1)
def minimal_vectors_float64() -> np.ndarray:
    return leech.minimal_vectors().astype(np.float64)


@lru_cache(maxsize=1)
def coordinate_columns() -> np.ndarray:
    """(24, 196560) float64: row i holds coordinate i of every minimal vector, contiguous."""
    return np.ascontiguousarray(minimal_vectors_float64().T)


def blas_argmax(z_N24: np.ndarray, chunk: int = 256) -> np.ndarray:
    """argmax of z @ Vᵀ in float64 (BLAS summation order), first index on ties."""
    vectors = minimal_vectors_float64()
    z = z_N24.reshape(-1, 24).astype(np.float64)
    return np.concatenate([np.argmax(z[s:s + chunk] @ vectors.T, axis=1) for s in range(0, len(z), chunk)])


def sequential_argmax(z_N24: np.ndarray, chunk: int = 32) -> np.ndarray:
    """argmax of B(x, z): products x_i·z_i in float64, added in coordinate order 0..23; first index
    on ties. Bit-exact definition of the search (slow: use a few dozen vectors)."""
    columns = coordinate_columns()
    z = z_N24.reshape(-1, 24).astype(np.float64)
    result = []
    for start in range(0, len(z), chunk):
        block = z[start:start + chunk]
        total = np.zeros((len(block), columns.shape[1]))
        product = np.empty_like(total)
        for i in range(24):
            np.multiply(block[:, i, None], columns[i], out=product)
            total += product
        result.append(np.argmax(total, axis=1))
    return np.concatenate(result)


def adversarial_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Float64 (n, 24) inputs full of exact ties and rounding-level near-ties."""
    vectors = minimal_vectors_float64()
    picks = rng.integers(0, len(vectors), size=(3, 12))
    signs = rng.choice([-1.0, 1.0], size=(12, 24))
    dynamic = rng.standard_normal((12, 24))
    dynamic[:, 0] = 2.0**60  # the other coordinates fall below the rounding of the partial sums
    return {
        "minimal vectors": vectors[picks[0]],
        "sums of two minimal vectors": vectors[picks[1]] + vectors[picks[2]],
        "all |z_i| equal": signs,
        "small integers": rng.integers(-2, 3, size=(12, 24)).astype(np.float64),
        "one-hot": np.eye(24) * rng.choice([-3.0, 1.0], size=(24, 1)),
        "tiny scale": rng.integers(-3, 4, size=(12, 24)) * 2.0**-1060,  # subnormal float64
        "huge scale": rng.standard_normal((12, 24)) * 2.0**990,
        "huge dynamic range": dynamic,
        "zero": np.zeros((2, 24)),
    }
