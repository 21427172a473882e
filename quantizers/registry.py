"""`build(name, **options)`: construct any quantizer of the package by name (each cited in its own module)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lattices import spherical
from lattices.codebook import Codebook
from lattices.codebook_io import load_codebook
from quantizers.base import Quantizer
from quantizers.binary import BinarySphericalQuantizer, LookupFreeQuantizer
from quantizers.fsq import FiniteScalarQuantizer
from quantizers.identity import IdentityQuantizer
from quantizers.leech24 import Leech24Quantizer
from quantizers.spherical import SphericalCodeQuantizer
from quantizers.vq import VectorQuantizer

E8_DIM = 8
E8_CODEBOOKS = {1: spherical.e8_roots, 2: spherical.e8_shells12}


def build_e8(dim: int = E8_DIM, shells: int = 1, **options) -> SphericalCodeQuantizer:
    """E8 spherical code on each 8-channel group: shells=1 the 240 roots, shells=2 roots + the
    2,160 norm-4 vectors (2,400 codes); dim a multiple of 8 gives the product over dim/8 groups."""
    if not isinstance(dim, int) or dim < E8_DIM or dim % E8_DIM:
        raise ValueError(f"dim must be a positive multiple of {E8_DIM}, got {dim!r}")
    if shells not in E8_CODEBOOKS:
        raise ValueError(f"shells must be one of {sorted(E8_CODEBOOKS)}, got {shells!r}")
    return SphericalCodeQuantizer(E8_CODEBOOKS[shells](), groups=dim // E8_DIM, **options)


def build_fibonacci(codebook_size: int, dim: int, **options) -> SphericalCodeQuantizer:
    """Generalized spherical Fibonacci code of `codebook_size` points on S^{dim−1}."""
    return SphericalCodeQuantizer(spherical.fibonacci(codebook_size, dim), **options)


def build_random(codebook_size: int, dim: int, seed: int = 0, **options) -> SphericalCodeQuantizer:
    """Random spherical code (normalized Gaussian vectors from `seed`), as in random-projection
    quantizers that match normalized inputs against a frozen random codebook."""
    return SphericalCodeQuantizer(spherical.random_code(codebook_size, dim, seed), **options)


def build_spherical(codebook: Codebook | str | Path, **options) -> SphericalCodeQuantizer:
    """Any spherical code: a `Codebook`, a codebook file (.npy/.safetensors) or a
    `lattices.spherical.by_name` name such as "e8-roots" or "fibonacci-n4096-d8"."""
    if isinstance(codebook, Path) or (isinstance(codebook, str) and Path(codebook).suffix):
        codebook = load_codebook(codebook)
    elif isinstance(codebook, str):
        codebook = spherical.by_name(codebook)
    return SphericalCodeQuantizer(codebook, **options)


BUILDERS: dict[str, Callable[..., Quantizer]] = {
    "leech24": Leech24Quantizer,
    "e8": build_e8,
    "fibonacci": build_fibonacci,
    "random": build_random,
    "spherical": build_spherical,
    "bsq": BinarySphericalQuantizer,
    "lfq": LookupFreeQuantizer,
    "fsq": FiniteScalarQuantizer,
    "vq": VectorQuantizer,
    "identity": IdentityQuantizer,
}


def build(name: str, **options) -> Quantizer:
    """The quantizer called `name` (see BUILDERS) constructed with keyword `options`."""
    if name not in BUILDERS:
        raise ValueError(f"unknown quantizer {name!r}; expected one of {sorted(BUILDERS)}")
    return BUILDERS[name](**options)
