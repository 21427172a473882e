"""Torch quantizer layers built on the codebooks of `lattices`."""
from quantizers.base import Quantizer, QuantizerOutput
from quantizers.binary import BinarySphericalQuantizer, LookupFreeQuantizer
from quantizers.fsq import FiniteScalarQuantizer
from quantizers.identity import IdentityQuantizer
from quantizers.leech24 import Leech24Quantizer
from quantizers.multiscale import MultiScaleOutput, MultiScaleResidualQuantizer
from quantizers.registry import BUILDERS, build
from quantizers.spherical import SphericalCodeQuantizer
from quantizers.usage import CodebookUsage
from quantizers.vq import VectorQuantizer

__all__ = [
    "BUILDERS",
    "BinarySphericalQuantizer",
    "CodebookUsage",
    "FiniteScalarQuantizer",
    "IdentityQuantizer",
    "Leech24Quantizer",
    "LookupFreeQuantizer",
    "MultiScaleOutput",
    "MultiScaleResidualQuantizer",
    "Quantizer",
    "QuantizerOutput",
    "SphericalCodeQuantizer",
    "VectorQuantizer",
    "build",
]
