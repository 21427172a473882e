"""Integer vectors: input validation and row bases (Hermite-style echelon form) of spanned lattices."""
from __future__ import annotations

import numpy as np

from lattices.codebook import Codebook, code_rows


def as_integer_vectors(x: np.ndarray | Codebook, dim: int, name: str = "x",
                       max_abs: int | None = None) -> np.ndarray:
    """Validate (..., dim) integer input, or a `Codebook`'s integer form (entries at most `max_abs`
    in magnitude when given, compared in the input's own dtype before any cast) and return it as
    int64; ValueError/TypeError otherwise."""
    array = code_rows(x)
    if array.ndim == 0 or array.shape[-1] != dim:
        raise ValueError(f"{name} must have last dimension {dim}, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {array.dtype}")
    if max_abs is not None and ((array > max_abs) | (array < -max_abs)).any():
        raise ValueError(f"{name} has entries outside [-{max_abs}, {max_abs}]")
    return array.astype(np.int64)


def row_basis(rows: np.ndarray) -> np.ndarray:
    """Upper-triangular integer basis (int64 rows, positive pivots) of the lattice spanned by `rows`.

    Column by column, Euclid's algorithm on the column entries leaves one pivot row; rows whose
    entry became zero move on to the next column. Exact (Python ints during the reduction).
    """
    array = np.asarray(rows)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"rows must be a non-empty 2-D array, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"rows must be an integer array, got dtype {array.dtype}")
    matrix = [list(map(int, row)) for row in array]
    basis = []
    for column in range(array.shape[1]):
        active = [row for row in matrix if row[column] != 0]
        rest = [row for row in matrix if row[column] == 0]
        while len(active) > 1:
            active.sort(key=lambda row: abs(row[column]))
            pivot = active[0]
            reduced = [pivot]
            for row in active[1:]:
                quotient = row[column] // pivot[column]
                row = [a - quotient * b for a, b in zip(row, pivot)]
                (reduced if row[column] != 0 else rest).append(row)
            active = reduced
        if active:
            pivot = active[0]
            basis.append([-a for a in pivot] if pivot[column] < 0 else pivot)
        matrix = [row for row in rest if any(row)]
    return np.array(basis, dtype=np.int64).reshape(-1, array.shape[1])
