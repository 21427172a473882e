"""Codebook files: save/load `.npy` and safetensors, and match an external Λ24 file to the canonical order."""
from __future__ import annotations

import math
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy
from numpy.lib import format as npy_format

from lattices import leech
from lattices.codebook import Codebook, check_float_matrix, normalize_rows, row_norms

SUFFIXES = (".npy", ".safetensors")
VECTORS_KEY = "vectors"
INTEGER_KEY = "integer_vectors"
NPY_HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}


def _suffix(path: Path) -> str:
    if path.suffix not in SUFFIXES:
        raise ValueError(f"codebook file {path} must end in one of {SUFFIXES}")
    return path.suffix


def save_codebook(codebook: Codebook, path: str | Path) -> Path:
    """Write a codebook: `.npy` holds the unit vectors (float64) only; safetensors also holds
    `integer_vectors` when present and the name and scale as metadata. Returns the path."""
    path = Path(path)
    if _suffix(path) == ".npy":
        np.save(path, codebook.vectors)
        return path
    tensors = {VECTORS_KEY: np.ascontiguousarray(codebook.vectors)}
    if codebook.integer_vectors is not None:
        tensors[INTEGER_KEY] = np.ascontiguousarray(codebook.integer_vectors)
    metadata = {"name": codebook.name, "scale": repr(codebook.scale)}
    safetensors.numpy.save_file(tensors, path, metadata=metadata)
    return path


def _read_npy(path: Path) -> np.ndarray:
    """The array of a `.npy` file; ValueError for object (pickled) data, a corrupt header, or a
    header whose shape and dtype do not match the bytes that follow (checked before allocating)."""
    try:
        with path.open("rb") as handle:
            version = npy_format.read_magic(handle)
            if version not in NPY_HEADER_READERS:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, _, dtype = NPY_HEADER_READERS[version](handle)
            if dtype.hasobject:
                raise ValueError("it holds Python objects (pickled data), which are never loaded")
            claimed = math.prod(shape) * dtype.itemsize
            present = os.fstat(handle.fileno()).st_size - handle.tell()
            if claimed != present:
                raise ValueError(f"its header claims shape {shape} of {dtype} ({claimed} bytes) but "
                                 f"{present} bytes of data follow")
            handle.seek(0)
            return npy_format.read_array(handle, allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as error:  # garbage header
        raise ValueError(f"{path} is not a readable numeric .npy file: {error}") from error


def _read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    try:
        with safetensors.safe_open(path, framework="np") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (safetensors.SafetensorError, OSError, TypeError) as error:
        raise ValueError(f"{path} is not a readable safetensors file: {error}") from error
    return tensors, metadata


def _pick_tensor(tensors: dict[str, np.ndarray], path: Path, key: str | None) -> np.ndarray:
    if key is None:
        key = VECTORS_KEY if VECTORS_KEY in tensors or len(tensors) != 1 else next(iter(tensors))
    if key not in tensors:
        raise ValueError(f"{path} has no tensor {key!r} (tensors: {sorted(tensors)})")
    return tensors[key]


def _check_existing(path: str | Path) -> Path:
    path = Path(path)
    _suffix(path)
    if not path.is_file():
        raise FileNotFoundError(f"codebook file {path} does not exist")
    return path


def load_codebook(path: str | Path) -> Codebook:
    """Read a codebook written by `save_codebook` (rows must already have unit norm).

    A `.npy` codebook is named after the file stem and has no integer form.
    """
    path = _check_existing(path)
    if path.suffix == ".npy":
        return Codebook(name=path.stem, vectors=check_float_matrix(_read_npy(path)))
    tensors, metadata = _read_safetensors(path)
    vectors = check_float_matrix(_pick_tensor(tensors, path, VECTORS_KEY))
    scale_text = metadata.get("scale", "None")
    try:
        scale = None if scale_text == "None" else float(scale_text)
    except ValueError as error:
        raise ValueError(f"{path} has a corrupt scale entry {scale_text!r}") from error
    return Codebook(name=metadata.get("name") or path.stem, vectors=vectors,
                    integer_vectors=tensors.get(INTEGER_KEY), scale=scale)


@dataclass(frozen=True, eq=False)
class LeechFileMatch:
    """How an external 196,560×24 file lists the Λ24 first shell.

    `permutation[k]` is the canonical index (`leech.minimal_vectors()` row) of file row k, so
    `file_rows ≈ scale · minimal_vectors()[permutation] / √32`; `np.argsort(permutation)` maps
    canonical indices to file rows. `scale` is the common norm of the file rows and
    `max_rounding_error` the largest |x·√32/‖x‖ − round(·)| over all entries.
    """

    permutation: np.ndarray
    scale: float
    max_rounding_error: float


def _tolerance(dtype: np.dtype, factor: float) -> float:
    """Agreement tolerance for values of a given float dtype (32 ulps, at least 1e-6·factor)."""
    return max(1e-6, 32 * float(np.finfo(dtype).eps)) * factor


def match_leech_file(path: str | Path, key: str | None = None) -> LeechFileMatch:
    """Verify that a `.npy`/safetensors file holds exactly the Λ24 first shell up to one common
    scale (any order, any float dtype) and return its permutation to the canonical order.

    Each row x is mapped to x·√32/‖x‖, rounded to integers (the rounding error must be below
    32·√32 float ulps of the file's dtype, and all row norms must agree to 32 ulps), converted by
    `leech.vector_to_index`, and the indices must form a permutation of 0..196,559. Raises
    ValueError/TypeError naming the problem (shape, dtype, NaN, mismatch, duplicates).
    """
    path = _check_existing(path)
    if path.suffix == ".npy":
        array = _read_npy(path)
    else:
        array = _pick_tensor(_read_safetensors(path)[0], path, key)
    expected = (leech.NUM_MINIMAL, leech.DIM)
    if array.shape != expected:
        raise ValueError(f"{path}: expected shape {expected} for the Λ24 first shell, "
                         f"got {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{path}: expected a float array, got dtype {array.dtype}")
    values = check_float_matrix(array, name=f"{path} rows")
    norms = row_norms(values)
    scale = float(np.median(norms))
    spread = float(np.abs(norms / scale - 1.0).max())
    if spread > _tolerance(array.dtype, 1.0):
        raise ValueError(f"{path}: rows do not share one norm (relative spread {spread:.3g}); "
                         "not a scaled Λ24 first shell")
    scaled = normalize_rows(values) * math.sqrt(leech.MIN_NORM)
    integers = np.rint(scaled)
    error = float(np.abs(scaled - integers).max())
    if error > _tolerance(array.dtype, math.sqrt(leech.MIN_NORM)):
        raise ValueError(f"{path}: rows are not scaled integer vectors (rounding error "
                         f"{error:.3g}); not a scaled Λ24 first shell")
    try:
        permutation = leech.vector_to_index(integers.astype(np.int64))
    except ValueError as mismatch:
        raise ValueError(f"{path}: rows do not match the Λ24 first shell: {mismatch}") from mismatch
    counts = np.bincount(permutation, minlength=leech.NUM_MINIMAL)
    if (counts > 1).any():
        raise ValueError(f"{path}: {int((counts > 1).sum())} minimal vectors appear more than "
                         f"once (duplicate rows), so {int((counts == 0).sum())} are missing")
    permutation.setflags(write=False)
    return LeechFileMatch(permutation=permutation, scale=scale, max_rounding_error=error)
