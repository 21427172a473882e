"""`Leech24Quantizer` (Λ24-SQ): the 196,560 normalized Λ24 minimal vectors, shape subsets, file order, digit labels.

Λ24-SQ, spherical Leech quantization: arXiv 2512.14697;
the lattice and its minimal vectors: Conway & Sloane, "Sphere Packings, Lattices and Groups", ch. 4 §11.
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from lattices import golay, leech
from lattices.codebook import Codebook
from lattices.codebook_io import match_leech_file
from quantizers.base import finite_option, require_codes_match, require_integer
from quantizers.kernels.leech_search import search_checked_rows
from quantizers.search import argmax_score
from quantizers.spherical import SphericalCodeQuantizer

DIGIT_OFFSET = 4  # coordinates −4..4 ↔ labels 0..8
NUM_DIGIT_LABELS = 9
TILED = "tiled fp32 matmul"
STRUCTURED = {"cpu": "numba Golay-structured search", "cuda": "Triton Golay-structured search"}
HAS_TRITON = importlib.util.find_spec("triton") is not None

SHAPE_RANGES = {
    name: (start, start + count)
    for name, start, count in zip(
        leech.SHAPE_NAMES, leech.SHAPE_OFFSETS,
        (leech.SHAPE_OCTAD_COUNT, leech.SHAPE_ODD_COUNT, leech.SHAPE_PAIR_COUNT),
    )
}


class Leech24Quantizer(SphericalCodeQuantizer):
    """Λ24-SQ: quantize L2-normalized 24-dim inputs to the nearest of the 196,560 minimal vectors / √32.

    Indices follow the canonical order of docs/architecture.md. `shapes` restricts the code to
    some of the three shapes "octad" (97,152 vectors ±2⁸0¹⁶), "odd" (98,304, ∓3±1²³) and "pair"
    (1,104, ±4²0²²); indices then count the kept vectors in canonical order. `codebook_file`
    (full code only) is an external 196,560×24 file, e.g. a published normalized Leech codebook:
    its rows are matched to the canonical vectors (`lattices.codebook_io.match_leech_file`,
    which verifies the permutation) and the quantizer's indices become the file's row numbers,
    so a checkpoint trained with that file keeps its index meaning. Ties in the search go to the
    lowest canonical index, whatever the index order.

    `indices_to_digits` / `digits_to_indices` map codewords to their 24 integer coordinates
    (√8-scaled, in −4..4) as labels 0..8, exactly (integer table and integer index arithmetic).
    """

    def __init__(self, *, shapes: tuple[str, ...] | list[str] = leech.SHAPE_NAMES,
                 codebook_file: str | Path | None = None, commitment_weight: float = 0.0,
                 channel_first: bool = False, check_finite: bool = True) -> None:
        shapes = _check_shapes(shapes)
        commitment_weight = finite_option(commitment_weight, "commitment_weight")  # before the build
        if codebook_file is not None and shapes != leech.SHAPE_NAMES:
            raise ValueError("codebook_file gives an order of the full code; it cannot be combined "
                             f"with shapes={shapes}")
        canonical_K = np.concatenate([np.arange(*SHAPE_RANGES[name]) for name in shapes])
        minimal_K24 = leech.minimal_vectors()
        name = "leech" if len(shapes) == 3 else "leech-" + "+".join(shapes)
        super().__init__(Codebook.from_integer(name, minimal_K24[canonical_K]),
                         commitment_weight=commitment_weight, channel_first=channel_first,
                         check_finite=check_finite)
        self.shapes = shapes
        self.full_code = shapes == leech.SHAPE_NAMES
        self.codebook_file = None if codebook_file is None else str(codebook_file)
        position_of_canonical = np.full(leech.NUM_MINIMAL, -1, dtype=np.int64)
        position_of_canonical[canonical_K] = np.arange(canonical_K.size)
        self.register_buffer("canonical_of_position", torch.from_numpy(canonical_K), persistent=False)
        self.register_buffer("position_of_canonical", torch.from_numpy(position_of_canonical),
                             persistent=False)
        self.register_buffer("minimal_vectors", torch.from_numpy(minimal_K24.astype(np.int8)),
                             persistent=False)
        self.register_buffer("golay_ints", torch.from_numpy(golay.codeword_ints().copy()), persistent=False)
        self.register_buffer("octad_ints", torch.from_numpy(
            golay.codeword_ints()[golay.octad_codeword_indices()].copy()), persistent=False)
        self.file_order = codebook_file is not None
        if self.file_order:
            canonical_of_row = match_leech_file(codebook_file).permutation.astype(np.int64)
            self.register_buffer("row_of_position", torch.from_numpy(np.argsort(canonical_of_row)),
                                 persistent=False)
            self.register_buffer("position_of_row", torch.from_numpy(canonical_of_row), persistent=False)

    def extra_repr(self) -> str:
        order = f", codebook_file={self.codebook_file!r}" if self.file_order else ""
        return f"{super().extra_repr()}, shapes={self.shapes}{order}"

    def search_backend(self, z: Tensor) -> str:
        device = z.device.type
        if not self.full_code or device not in STRUCTURED:
            return TILED
        if device == "cuda" and not HAS_TRITON:
            return TILED
        return STRUCTURED[device]

    def _nearest(self, u_M24: Tensor) -> Tensor:
        """Canonical-order position of the nearest codeword; ties to the lowest position.

        Full code: the exact Golay-structured search through its door `quantizers.kernels.leech_search`
        (numba on CPU, Triton on CUDA), with float64 scores of the fp32 unit vectors; the CPU search
        raises ValueError on non-finite rows. Shape subsets (or CUDA without Triton):
        the exact tiled search over the (subset) codebook. The rows come from this class (fp32
        (M, 24), finite-checked by the base class when `check_finite`), so the CUDA search is
        called without its argument checks.
        """
        if self.search_backend(u_M24) == TILED:
            return argmax_score(u_M24, self.codebook)
        u_M24 = u_M24.detach().float().contiguous()
        if torch.compiler.is_compiling():  # the operator, so that the compiler traces around the search
            return torch.ops.slq.leech_nearest_minimal(u_M24)
        return search_checked_rows(u_M24)  # the operator's kernels without the dispatcher

    def _index_from_position(self, position_M: Tensor) -> Tensor:
        return self.row_of_position[position_M] if self.file_order else position_M

    def _position_from_index(self, index_M: Tensor) -> Tensor:
        return self.position_of_row[index_M] if self.file_order else index_M

    # exact integer views ----------------------------------------------------------------------
    def indices_to_digits(self, indices: Tensor) -> Tensor:
        """Labels (..., 24) int64 in 0..8: each codeword's integer coordinates (√8 scale) plus 4."""
        indices = self.check_indices(indices)
        canonical = self.canonical_of_position[self._position_from_index(indices)]
        return self.minimal_vectors[canonical].long() + DIGIT_OFFSET

    def digits_to_indices(self, digits: Tensor) -> Tensor:
        """Indices (...) for labels (..., 24) in 0..8; ValueError if a row is not a codeword of this code."""
        digits = require_integer(digits, "digits")
        if digits.ndim < 1 or digits.shape[-1] != leech.DIM:
            raise ValueError(f"digits must have shape (..., {leech.DIM}), got {tuple(digits.shape)}")
        if digits.numel() and bool((digits.min() < 0) | (digits.max() >= NUM_DIGIT_LABELS)):
            raise ValueError(f"digit labels must lie in [0, {NUM_DIGIT_LABELS}), got range "
                             f"[{int(digits.min())}, {int(digits.max())}]")
        vectors_N24 = digits.reshape(-1, leech.DIM) - DIGIT_OFFSET
        return self._index_of_vectors(vectors_N24).reshape(digits.shape[:-1])

    def _index_of_vectors(self, vectors_N24: Tensor) -> Tensor:
        position_N = self.position_of_canonical[self._canonical_index(vectors_N24)]
        if bool((position_N < 0).any()):
            raise ValueError(f"{int((position_N < 0).sum())} vectors are minimal vectors outside the "
                             f"selected shapes {self.shapes}")
        return self._index_from_position(position_N)

    def _canonical_index(self, x_N24: Tensor) -> Tensor:
        """Canonical index of integer minimal vectors from their structure (docs/architecture.md)."""
        dim = leech.DIM
        weights_24 = torch.ones(dim, dtype=torch.int64, device=x_N24.device) << torch.arange(
            dim, device=x_N24.device)
        nonzero_N24 = x_N24 != 0
        negative_N24 = (x_N24 < 0).long()
        # octad shape: octad from the support, sign mask over the octad's positions (ascending)
        support_N = (nonzero_N24.long() * weights_24).sum(dim=1)
        octad_N = torch.searchsorted(self.octad_ints, support_N).clamp_max(self.octad_ints.numel() - 1)
        rank_N24 = (nonzero_N24.long().cumsum(dim=1) - 1).clamp_min(0)
        mask_N = ((negative_N24 * nonzero_N24) << rank_N24).sum(dim=1)
        octad_index_N = leech.SHAPE_OFFSETS[0] + 128 * octad_N + (mask_N >> 1)
        # odd shape: Golay word from the signs with the ∓3 position flipped
        three_N = x_N24.abs().argmax(dim=1)
        word_N = (negative_N24 * weights_24).sum(dim=1) ^ weights_24[three_N]
        code_N = torch.searchsorted(self.golay_ints, word_N).clamp_max(self.golay_ints.numel() - 1)
        odd_index_N = leech.SHAPE_OFFSETS[1] + dim * code_N + three_N
        # pair shape: lexicographic pair a < b and the two signs
        first_N = nonzero_N24.long().argmax(dim=1)
        last_N = dim - 1 - nonzero_N24.flip(1).long().argmax(dim=1)
        pair_N = first_N * (2 * dim - first_N - 1) // 2 + (last_N - first_N - 1)
        signs_N = negative_N24.gather(1, first_N[:, None])[:, 0] + 2 * negative_N24.gather(1, last_N[:, None])[:, 0]
        pair_index_N = leech.SHAPE_OFFSETS[2] + 4 * pair_N + signs_N
        count_N = nonzero_N24.sum(dim=1)
        canonical_N = torch.where(count_N == 8, octad_index_N,
                                  torch.where(count_N == dim, odd_index_N, pair_index_N))
        canonical_N = canonical_N.clamp(0, leech.NUM_MINIMAL - 1)
        invalid_N = (self.minimal_vectors[canonical_N].long() != x_N24).any(dim=1)
        if bool(invalid_N.any()):
            raise ValueError(f"{int(invalid_N.sum())} of {x_N24.shape[0]} vectors are not minimal "
                             "vectors of Λ24 (digit labels must be a codeword's coordinates + 4)")
        return canonical_N

    def _codes_to_indices(self, codes_Nd: Tensor, dtype: torch.dtype) -> Tensor:
        vectors_N24 = torch.round(codes_Nd * math.sqrt(leech.MIN_NORM)).long()
        if bool((vectors_N24.abs() > DIGIT_OFFSET).any()):
            raise ValueError("codes have coordinates beyond ±4/√32: not codewords of Λ24-SQ")
        try:
            indices_N = self._index_of_vectors(vectors_N24)
        except ValueError as error:
            raise ValueError(f"codes are not codewords of this quantizer: {error}") from error
        require_codes_match(codes_Nd, self._lookup(indices_N), dtype)
        return indices_N


def _check_shapes(shapes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    if isinstance(shapes, str) or not isinstance(shapes, (tuple, list)):
        raise TypeError(f"shapes must be a tuple of shape names, got {shapes!r}")
    unknown = [name for name in shapes if name not in leech.SHAPE_NAMES]
    if unknown or not shapes or len(set(shapes)) != len(shapes):
        raise ValueError(f"shapes must be distinct names from {leech.SHAPE_NAMES}, got {tuple(shapes)}")
    return tuple(name for name in leech.SHAPE_NAMES if name in shapes)
