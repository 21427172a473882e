"""The `Codebook` type: a named spherical code of unit vectors, with its exact integer form if any."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

UNIT_NORM_TOLERANCE = 1e-9


def code_rows(vectors: Codebook | np.ndarray) -> np.ndarray:
    """The rows of a `Codebook` (its exact integer form when it has one) or of an array-like."""
    if isinstance(vectors, Codebook):
        return vectors.vectors if vectors.integer_vectors is None else vectors.integer_vectors
    return np.asarray(vectors)


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
    if not (array != 0).any(axis=1).all():
        raise ValueError(f"{name} contains zero rows, which have no direction")
    return array


def check_integer_matrix(vectors: np.ndarray, name: str = "integer_vectors") -> np.ndarray:
    """Validate a non-empty 2-D integer array with no zero rows; returns it unchanged."""
    array = _as_nonempty_matrix(vectors, name)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {array.dtype}")
    if not (array != 0).any(axis=1).all():
        raise ValueError(f"{name} contains zero rows, which have no direction")
    return array


def _peak_scaled_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(float64 rows divided by their largest |entry|, those peaks (N, 1)); zero rows divide by 1.

    The scaled rows have entries in [−1, 1] and (unless zero) one of magnitude 1, so their squares
    neither overflow (rows near 1e200) nor underflow (rows near 1e-170) in a Euclidean norm.
    """
    array = np.asarray(vectors, dtype=np.float64)
    peak_N1 = np.abs(array).max(axis=1, keepdims=True)
    peak_N1[peak_N1 == 0] = 1.0
    return array / peak_N1, peak_N1


def row_norms(vectors: np.ndarray) -> np.ndarray:
    """Euclidean norms (N,) of the rows of a 2-D array, in float64, free of overflow and underflow
    of the squares (see `_peak_scaled_rows`)."""
    scaled, peak_N1 = _peak_scaled_rows(vectors)
    return peak_N1[:, 0] * np.linalg.norm(scaled, axis=1)


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their Euclidean norms (float64), each first divided by its largest |entry|
    so that rows of any finite magnitude normalize correctly."""
    scaled, _ = _peak_scaled_rows(vectors)
    return scaled / np.linalg.norm(scaled, axis=1, keepdims=True)


def integer_peak(integers: np.ndarray) -> int:
    """max |x| over a non-empty integer array, as a Python int (no int64 overflow at −2⁶³)."""
    return max(int(integers.max()), -int(integers.min()))


def squared_norms(integers: np.ndarray) -> np.ndarray:
    """Exact squared Euclidean norms (N,) of integer rows: int64 when dim·max|x|² < 2⁶³, else
    Python ints (object array), so that large entries cannot wrap around."""
    if integers.shape[1] * integer_peak(integers) ** 2 < 2**63:
        wide = integers.astype(np.int64)
    else:
        wide = np.array([[int(value) for value in row] for row in integers], dtype=object)
    return (wide * wide).sum(axis=1)


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
        norms = row_norms(vectors)
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
            if not math.isclose(self.scale, float(row_norms(integers[:1])[0]), rel_tol=1e-12):
                raise ValueError(f"scale {self.scale} is not the norm of the integer rows")
            squared = squared_norms(integers)
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
        squared = squared_norms(integers)
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
