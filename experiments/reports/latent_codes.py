"""Post-hoc quantization of unit latents with any `quantizers.build` code, lower-dimensional codes through a fixed projection.

A code of dimension d < D (BSQ with 18 bits, FSQ with 6 levels, a zoo code) cannot quantize a
D-dimensional latent u directly; it sees y = √D · P u, where P (d × D) holds the first d rows of a
seeded random orthogonal matrix (QR of a Gaussian, Mezzadri, arXiv math-ph/0609050), and its code q
is mapped back as û = normalize(Pᵀ q). The gain √D gives y unit variance per coordinate for an
isotropic u (FSQ's tanh expects order-one inputs; sign and normalizing codes ignore it). BSQ this
way is exactly the nearest-point quantizer of the 2^d points Pᵀ{±1}^d/√d on the sphere (they span
only a d-dimensional subspace, so the energy of u outside it is lost); FSQ's grid points are
normalized, so its radial levels collapse. Codes of dimension D quantize u directly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

import quantizers
from quantizers.base import Quantizer, normalize_rows

PROJECTION_SEED = 0


@dataclass(frozen=True)
class CodeSpec:
    """A named quantizer: `quantizers.build(name, **options)`, reported as `label`."""

    label: str
    name: str
    options: dict

    def build(self) -> Quantizer:
        return quantizers.build(self.name, **self.options)


def parse_code_spec(text: str) -> CodeSpec:
    """`[LABEL=]NAME[:{yaml mapping of options}]`, e.g. `e8x3=e8:{dim: 24}`; the label defaults to the text."""
    import yaml

    label, _, body = text.partition("=") if "=" in text.split(":", 1)[0] else (text, "", text)
    name, _, options_text = body.partition(":")
    if not label.strip() or not name.strip():
        raise ValueError(f"code spec {text!r} must look like [LABEL=]NAME[:{{options}}]")
    try:
        options = yaml.safe_load(options_text) if options_text.strip() else {}
    except yaml.YAMLError as error:
        raise ValueError(f"code spec {text!r}: the options are not valid YAML ({error})") from None
    if not isinstance(options, dict):
        raise ValueError(f"code spec {text!r}: the options must be a mapping such as {{dim: 24}}")
    if name.strip() not in quantizers.BUILDERS:
        raise ValueError(f"code spec {text!r}: unknown quantizer {name.strip()!r}; expected one of "
                         f"{sorted(quantizers.BUILDERS)}")
    return CodeSpec(label.strip(), name.strip(), options)


def orthogonal_projection(rows: int, dim: int, seed: int = PROJECTION_SEED) -> Tensor:
    """(rows, dim) float32 with orthonormal rows: the first rows of a Haar-random orthogonal matrix."""
    gaussian = torch.randn(dim, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    return (q * torch.sign(torch.diagonal(r))).T[:rows].float()


class LatentCode:
    """`quantize(u_ND)` → û_ND: the code's reconstruction of unit latents of dimension `latent_dim`."""

    def __init__(self, quantizer: Quantizer, latent_dim: int) -> None:
        if quantizer.channel_first:
            raise ValueError("build the code with channel_first=False")
        if quantizer.dim > latent_dim:
            raise ValueError(f"a code of dimension {quantizer.dim} cannot quantize {latent_dim}-D latents")
        self.quantizer = quantizer.eval()
        self.latent_dim = latent_dim
        self.projection_dD = None if quantizer.dim == latent_dim else orthogonal_projection(quantizer.dim, latent_dim)

    def to(self, device: torch.device) -> LatentCode:
        self.quantizer.to(device)
        if self.projection_dD is not None:
            self.projection_dD = self.projection_dD.to(device)
        return self

    @torch.no_grad()
    def quantize(self, u_ND: Tensor) -> tuple[Tensor, Tensor]:
        """(û_ND float32, indices_N) for unit rows u_ND."""
        if self.projection_dD is None:
            out = self.quantizer(u_ND)
            return out.quantized.float(), out.indices
        out = self.quantizer(math.sqrt(self.latent_dim) * u_ND @ self.projection_dD.T)
        return normalize_rows(out.quantized.float() @ self.projection_dD), out.indices


def quantization_errors(u_ND: Tensor, decoded_ND: Tensor) -> tuple[Tensor, Tensor]:
    """(sum of squared coordinate errors, sum of angles in degrees) over the rows; a zero û has angle 90°."""
    squared = ((u_ND - decoded_ND) ** 2).sum()
    cosine_N = (u_ND * normalize_rows(decoded_ND)).sum(dim=1).clamp(-1.0, 1.0)
    return squared.double(), torch.rad2deg(torch.arccos(cosine_N.double())).sum()
