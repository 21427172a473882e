"""`build(name, **options)`: construct any quantizer of the package by name (each cited in its own module)."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
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
ZOO_SHELLS = ("d4", "e6", "e7", "k12", "bw16")


def build_e8(dim: int = E8_DIM, shells: int = 1, **options) -> SphericalCodeQuantizer:
    """E8 spherical code on each 8-channel group: shells=1 the 240 roots, shells=2 roots + the
    2,160 norm-4 vectors (2,400 codes); dim a multiple of 8 gives the product over dim/8 groups."""
    if not isinstance(dim, int) or dim < E8_DIM or dim % E8_DIM:
        raise ValueError(f"dim must be a positive multiple of {E8_DIM}, got {dim!r}")
    if shells not in E8_CODEBOOKS:
        raise ValueError(f"shells must be one of {sorted(E8_CODEBOOKS)}, got {shells!r}")
    return SphericalCodeQuantizer(E8_CODEBOOKS[shells](), groups=dim // E8_DIM, **options)


def build_lattice_shell(lattice: str, dim: int | None = None, **options) -> SphericalCodeQuantizer:
    """First shell of a zoo lattice ("d4", "e6", "e7", "k12", "bw16") as a spherical code on each
    group of its own dimension (4, 6, 7, 12, 16); `dim` a multiple of it gives the product over
    dim / group channels (e.g. K12² with lattice="k12", dim=24; D4⁶ with lattice="d4", dim=24)."""
    if lattice not in ZOO_SHELLS:
        raise ValueError(f"unknown lattice {lattice!r}; expected one of {sorted(ZOO_SHELLS)}")
    codebook = spherical.by_name(f"{lattice}-shell1")
    dim = codebook.dim if dim is None else dim
    if not isinstance(dim, int) or dim < codebook.dim or dim % codebook.dim:
        raise ValueError(f"dim must be a positive multiple of {codebook.dim} for {lattice}, got {dim!r}")
    return SphericalCodeQuantizer(codebook, groups=dim // codebook.dim, **options)


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
    **{name: partial(build_lattice_shell, name) for name in ZOO_SHELLS},
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
