"""Shared types of the Λ24 search on torch: the Triton launch configuration, device token lists, Golay tables.

Imported by the door (`leech_search`) and by every Triton kernel module, so that no kernel module
imports the door (docs/search.md describes the kernels).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from lattices import golay, leech

DIM = leech.DIM


@dataclass(frozen=True)
class KernelConfig:
    """Tunable launch parameters of the Triton kernel (powers of two; see docs/search.md)."""

    block_tokens: int = 32  # tokens per program step of the float32 survivor pass (rows of each int8 dot)
    precise_block_tokens: int = 16  # the same for the float64 pass (a few hundred tokens: more programs)
    block_codewords: int = 64  # codewords per dot tile
    block_octads: int = 64  # octads per dot tile
    slots: int = 64  # survivor slots per token and pass; more survivors -> exact fallback
    top: int = 4  # coordinates moved in the linear codeword bound
    num_warps: int = 4
    programs_per_sm: int = 4  # persistent grid: programs per streaming multiprocessor
    screen_stages: int = 2  # screening passes before the survivor kernel: 0, 1 (one candidate), 2 (then more);
    # with 0 the survivor kernel runs in float32 on every token first, otherwise in float64 only
    screen_candidates: int = 2  # candidates per family of the second screening pass (1..4)
    screen_block_tokens: int = 64  # tokens per program of the first screening pass
    rescreen_block_tokens: int = 32  # tokens per program of the second screening pass (fewer registers)
    screen_block_codewords: int = 128  # codeword columns per float16 dot tile
    screen_block_octads: int = 64  # octads per float16 dot tile
    screen_top: int = 8  # coordinates moved in the screening codeword bound
    screen_bottom: int = 8  # smallest coordinates in the screening octad bound
    screen_warps: int = 4
    graphs: int = 4  # CUDA graphs of the stage chain kept for repeated inputs (0: always launch eagerly)

    def __post_init__(self) -> None:
        for name, largest in (("block_tokens", 1024), ("precise_block_tokens", 1024), ("block_codewords", 2048),
                              ("block_octads", 256), ("screen_block_tokens", 256), ("rescreen_block_tokens", 256),
                              ("screen_block_codewords", 2048),
                              ("screen_block_octads", 256)):
            value = getattr(self, name)
            if not 16 <= value <= largest or value & (value - 1):
                raise ValueError(f"{name} must be a power of two in [16, {largest}], got {value}")
        if not 1 <= self.slots <= 4096:
            raise ValueError(f"slots must lie in [1, 4096], got {self.slots}")
        for name in ("top", "screen_top", "screen_bottom"):
            if not 2 <= getattr(self, name) <= 22:
                raise ValueError(f"{name} must lie in [2, 22], got {getattr(self, name)}")
        if self.screen_stages not in (0, 1, 2):
            raise ValueError(f"screen_stages must be 0, 1 or 2, got {self.screen_stages}")
        if self.screen_candidates not in (1, 2, 3, 4):
            raise ValueError(f"screen_candidates must lie in 1..4, got {self.screen_candidates}")
        for name in ("num_warps", "screen_warps"):
            value = getattr(self, name)
            if value < 1 or value & (value - 1):
                raise ValueError(f"{name} must be a power of two, got {value}")
        if self.programs_per_sm < 1:
            raise ValueError(f"programs_per_sm must be positive, got {self.programs_per_sm}")
        if not 0 <= self.graphs <= 64:
            raise ValueError(f"graphs must lie in [0, 64], got {self.graphs}")

    def programs(self, device: torch.device) -> int:
        """Size of the persistent grid on `device` (2 programs off CUDA, i.e. the interpreter)."""
        if device.type != "cuda":
            return 2
        return self.programs_per_sm * torch.cuda.get_device_properties(device).multi_processor_count


DEFAULT_CONFIG = KernelConfig()  # built once: a call with the defaults skips the field checks


class TokenList(NamedTuple):
    """Token ids on the device with their count on the device, so that no stage waits for the host:
    a stage appends the tokens it cannot certify (ids in any order, one atomic add per block) and the
    next stage reads the count in its kernels. `ids` holds room for every token."""

    ids: Tensor  # (capacity,) int32; entries ≥ count are unspecified
    count: Tensor  # (1,) int64

    @classmethod
    def all_tokens(cls, n_tokens: int, device: torch.device) -> TokenList:
        """The list 0 .. n_tokens − 1."""
        return cls(torch.arange(n_tokens, dtype=torch.int32, device=device),
                   torch.full((1,), n_tokens, dtype=torch.int64, device=device))


class KernelTables(NamedTuple):
    """Golay tables of the kernel on one device."""

    codeword_signs: Tensor  # (32, 2048) int8: s_i(c) = ±1 of codewords c < 2048 in rows i < 24, zero rows
    codeword_masks: Tensor  # (4096,) int32 codeword bits sum(c_i << i), canonical order
    octad_members: Tensor  # (32, 768) int8: octad indicators in rows i < 24, zero padding
    octad_masks: Tensor  # (768,) int32 octad bits, canonical order, zero padding after 759
    codeword_signs_half: Tensor  # codeword_signs as float16 (screening kernel)
    octad_members_half: Tensor  # octad_members as float16 (screening kernel)


@lru_cache(maxsize=8)
def kernel_tables(device: torch.device) -> KernelTables:
    codeword_masks = golay.codeword_ints().astype(np.int32)
    if not np.array_equal(codeword_masks[::-1], (2**DIM - 1) ^ codeword_masks):
        raise AssertionError("the complement of codeword c must be codeword 4095 - c")
    half = codeword_masks.shape[0] // 2
    signs = np.zeros((32, half), dtype=np.int8)
    signs[:DIM] = (1 - 2 * ((codeword_masks[:half, None] >> np.arange(DIM)) & 1)).T
    octad_masks = np.zeros(768, dtype=np.int32)
    octad_masks[:759] = codeword_masks[golay.octad_codeword_indices()]
    members = np.zeros((32, 768), dtype=np.int8)
    members[:DIM] = ((octad_masks[:, None] >> np.arange(DIM)) & 1).T
    tensors = (signs, codeword_masks, members, octad_masks, signs.astype(np.float16), members.astype(np.float16))
    return KernelTables(*(torch.from_numpy(np.ascontiguousarray(t)).to(device) for t in tensors))
