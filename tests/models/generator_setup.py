"""Tiny next-scale generators for the generator tests: every head kind with its quantizer, randomized weights."""
from __future__ import annotations

import torch

from models.generator import GeneratorConfig, NextScaleTransformer, build_head
from quantizers.binary import BinarySphericalQuantizer
from quantizers.fsq import FiniteScalarQuantizer
from quantizers.leech24 import Leech24Quantizer
from quantizers.multiscale import MultiScaleResidualQuantizer

SCALES = (1, 2, 3)
NUM_CLASSES = 5


def inner_quantizer(kind: str):
    """Λ24-SQ for the factorized head, BSQ-6 for bits, FSQ (5, 5, 3) = 75 codes for full."""
    return {"factorized": Leech24Quantizer, "bits": lambda: BinarySphericalQuantizer(6),
            "full": lambda: FiniteScalarQuantizer((5, 5, 3))}[kind]()


def tiny_generator(kind: str, *, seed: int = 0, dtype: torch.dtype = torch.float64, class_dropout: float = 0.1
                   ) -> tuple[NextScaleTransformer, MultiScaleResidualQuantizer]:
    """(model, quantizer) with all weights drawn N(0, 0.2²) (adaLN-Zero's zero init would make every
    block an identity) and φ in the quantizer, both in `dtype`, model in eval mode."""
    torch.manual_seed(seed)
    quantizer = MultiScaleResidualQuantizer(inner_quantizer(kind), scales=SCALES, channel_first=True).to(dtype)
    config = GeneratorConfig(num_classes=NUM_CLASSES, scales=SCALES, code_dim=quantizer.dim, width=16, depth=2,
                             heads=2, class_dropout=class_dropout)
    model = NextScaleTransformer(config, build_head(kind, config.width, quantizer)).to(dtype)
    with torch.no_grad():
        for parameter in list(model.parameters()) + list(quantizer.parameters()):
            parameter.normal_(0, 0.2)
    return model.eval(), quantizer


def random_indices(quantizer: MultiScaleResidualQuantizer, batch: int, seed: int = 1) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(quantizer.codebook_size, (batch, h, w), generator=generator) for h, w in quantizer.sizes]
