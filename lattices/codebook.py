"""The `Codebook` type: a named spherical code of unit vectors, with its exact integer form if any."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

UNIT_NORM_TOLERANCE = 1e-9


def _as_nonempty_matrix(vectors: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(vectors)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, dim) array, got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    return array


def check_float_matrix(vectors: np.ndarray, name: str = "vectors") -> np.ndarray:
    """Validate a non-empty 2-D finite floating array with no zero rows; returns it as float64."""
    array = _as_nonempty_matrix(vectors, name)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got dtype {array.dtype}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    array = array.astype(np.float64)
    if not (np.einsum("ij,ij->i", array, array) > 0).all():
        raise ValueError(f"{name} contains zero rows, which have no direction")
    return array


def check_integer_matrix(vectors: np.ndarray, name: str = "integer_vectors") -> np.ndarray:
    """Validate a non-empty 2-D integer array with no zero rows; returns it unchanged."""
    array = _as_nonempty_matrix(vectors, name)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {array.dtype}")
    if not (np.abs(array).max(axis=1) > 0).all():
        raise ValueError(f"{name} contains zero rows, which have no direction")
    return array


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their Euclidean norms (float64)."""
    array = np.asarray(vectors, dtype=np.float64)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def _squared_norms(integers: np.ndarray) -> np.ndarray:
    wide = integers.astype(np.int64)
    return np.einsum("ij,ij->i", wide, wide)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Codebook:
    """A spherical code: `size` unit vectors of dimension `dim` (float64, read-only).

    `integer_vectors` is the exact integer form when the code comes from a lattice shell or the
    hypercube (same order as `vectors`), else None. `scale` is the common Euclidean norm of the
    integer rows (vectors = integer_vectors / scale), or None when there is no integer form or its
    rows have different norms (then vectors = integer rows divided by their own norms).
    """

    name: str
    vectors: np.ndarray
    integer_vectors: np.ndarray | None = None
    scale: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a codebook needs a non-empty name")
        vectors = check_float_matrix(self.vectors)
        norms = np.linalg.norm(vectors, axis=1)
        if np.abs(norms - 1.0).max() > UNIT_NORM_TOLERANCE:
            raise ValueError(f"codebook vectors must have unit norm (max deviation "
                             f"{np.abs(norms - 1.0).max():.3g}); use Codebook.from_float")
        object.__setattr__(self, "vectors", _read_only(vectors))
        if self.integer_vectors is None:
            if self.scale is not None:
                raise ValueError("scale is only defined together with integer_vectors")
            return
        integers = check_integer_matrix(self.integer_vectors)
        if integers.shape != vectors.shape:
            raise ValueError(f"integer_vectors shape {integers.shape} differs from vectors "
                             f"shape {vectors.shape}")
        if np.abs(normalize_rows(integers) - vectors).max() > UNIT_NORM_TOLERANCE:
            raise ValueError("vectors are not the normalized integer_vectors")
        object.__setattr__(self, "integer_vectors", _read_only(integers))
        if self.scale is not None:
            if not math.isclose(self.scale, float(np.linalg.norm(integers[0])), rel_tol=1e-12):
                raise ValueError(f"scale {self.scale} is not the norm of the integer rows")
            squared = _squared_norms(integers)
            if not (squared == squared[0]).all():
                raise ValueError("scale is given but the integer rows have different norms")

    @classmethod
    def from_float(cls, name: str, vectors: np.ndarray) -> Codebook:
        """A codebook of the given float rows, each normalized to unit length."""
        return cls(name=name, vectors=normalize_rows(check_float_matrix(vectors)))

    @classmethod
    def from_integer(cls, name: str, integer_vectors: np.ndarray) -> Codebook:
        """A codebook of the normalized integer rows; `scale` is set when all norms agree."""
        integers = check_integer_matrix(integer_vectors)
        squared = _squared_norms(integers)
        scale = math.sqrt(int(squared[0])) if (squared == squared[0]).all() else None
        return cls(name=name, vectors=normalize_rows(integers), integer_vectors=integers,
                   scale=scale)

    @property
    def size(self) -> int:
        """Number of codewords N."""
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        """Dimension d of the codewords."""
        return int(self.vectors.shape[1])

    @property
    def bits(self) -> float:
        """log2 N: bits per token."""
        return math.log2(self.size)
