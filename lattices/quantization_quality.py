"""How well a spherical code quantizes uniformly random directions: mean squared error, mean angle, covering angle.

For N uniformly random unit vectors u (normalized standard Gaussians from numpy
default_rng([SAMPLE_STREAM, seed]), a stream apart from the seeds of `spherical.random_code`)
and the nearest codeword c(u) (largest inner product), reports E‖u − c(u)‖² = E[2 − 2 cos],
the mean angle E[arccos cos] and the largest angle seen, a Monte-Carlo (lower) estimate of the
covering angle. The nearest codeword is found exactly: the Λ24 first shell through the numba
search `lattices.leech_search.nearest_minimal`; product codes per group (each group's best
cosine, weighted by the group norms, Σ_k ‖u_k‖ cos_k/√g); projected grids (BSQ, FSQ) through
`lattices.grid_codes`; any other `Codebook` by dense float64 matrix products in chunks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lattices import leech
from lattices.codebook import Codebook
from lattices.grid_codes import GridCode
from lattices.leech_search import nearest_minimal
from lattices.product_code import ProductCode

DENSE_CHUNK_ENTRIES = 2**22  # float64 inner products held at once (32 MiB)
BATCH = 2**14  # directions per batch
SAMPLE_STREAM = 0x51E7  # keeps the directions independent of random codes built from `seed`


@dataclass(frozen=True)
class QuantizationQuality:
    """Results over `samples` random directions from `seed` (angles in degrees)."""

    samples: int
    seed: int
    mse: float
    mean_angle_degrees: float
    covering_angle_degrees: float


def uniform_directions(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """(count, dim) float64 unit vectors, uniform on the sphere."""
    gaussian = rng.standard_normal((count, dim))
    return gaussian / np.linalg.norm(gaussian, axis=1, keepdims=True)


def dense_best_cosines(u_BD: np.ndarray, codewords_KD: np.ndarray) -> np.ndarray:
    """max_k u_b·c_k per row (float64), codewords in chunks of bounded memory."""
    best_B = np.full(u_BD.shape[0], -np.inf)
    step = max(1, DENSE_CHUNK_ENTRIES // max(1, u_BD.shape[0]))
    for start in range(0, codewords_KD.shape[0], step):
        np.maximum(best_B, (u_BD @ codewords_KD[start:start + step].T).max(axis=1), out=best_B)
    return best_B


def _leech_best_cosines(u_BD: np.ndarray) -> np.ndarray:
    indices_B = nearest_minimal(u_BD)
    vectors_BD = leech.minimal_vectors()[indices_B].astype(np.float64)
    return np.einsum("bd,bd->b", u_BD, vectors_BD) / math.sqrt(leech.MIN_NORM)


def best_cosines(code: Codebook | ProductCode | GridCode, u_BD: np.ndarray) -> np.ndarray:
    """Cosine between each unit row of u_BD and its nearest codeword (exact search)."""
    if isinstance(code, GridCode):
        return code.best_cosines(u_BD)
    if isinstance(code, ProductCode):
        groups_BGd = u_BD.reshape(u_BD.shape[0], code.groups, code.component.dim)
        norms_BG = np.linalg.norm(groups_BGd, axis=2)
        units = (groups_BGd / np.where(norms_BG > 0, norms_BG, 1.0)[..., None]).reshape(
            -1, code.component.dim)
        cosines_BG = best_cosines(code.component, units).reshape(norms_BG.shape)
        return (norms_BG * cosines_BG).sum(axis=1) / math.sqrt(code.groups)
    if isinstance(code, Codebook):
        if code.name == "leech":
            return _leech_best_cosines(u_BD)
        return dense_best_cosines(u_BD, code.vectors)
    raise TypeError(f"expected a Codebook, ProductCode or GridCode, got {type(code).__name__}")


def quantization_quality(code: Codebook | ProductCode | GridCode, samples: int, seed: int = 0,
                         progress: bool = False) -> QuantizationQuality:
    """Mean squared error, mean angle and covering-angle estimate over `samples` directions."""
    if not isinstance(code, (Codebook, ProductCode, GridCode)):
        raise TypeError(f"expected a Codebook, ProductCode or GridCode, got {type(code).__name__}")
    for value, name, minimum in ((samples, "samples", 1), (seed, "seed", 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {value}")
    rng = np.random.default_rng([SAMPLE_STREAM, int(seed)])
    total_error = total_angle = 0.0
    largest_angle = 0.0
    batches = range(0, samples, BATCH)
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc=f"quantize {code.name}", unit="batch", leave=False)
    for start in batches:
        u_BD = uniform_directions(min(BATCH, samples - start), code.dim, rng)
        cosines_B = np.clip(best_cosines(code, u_BD), -1.0, 1.0)
        angles_B = np.arccos(cosines_B)
        total_error += float((2.0 - 2.0 * cosines_B).sum())
        total_angle += float(angles_B.sum())
        largest_angle = max(largest_angle, float(angles_B.max()))
    return QuantizationQuality(samples=int(samples), seed=int(seed), mse=total_error / samples,
                               mean_angle_degrees=math.degrees(total_angle / samples),
                               covering_angle_degrees=math.degrees(largest_angle))
