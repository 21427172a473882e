"""Class-conditional next-scale (VAR-style) generator over quantizer tokens: transformer, heads, fused loss, sampling."""
from models.generator.fused_cross_entropy import fused_linear_cross_entropy
from models.generator.heads import HEAD_KINDS, BitsHead, FactorizedLeechHead, FullHead, build_head
from models.generator.optim import build_optimizers
from models.generator.sampling import sample_scales
from models.generator.scales import flatten_scales, teacher_forcing_inputs
from models.generator.var import PRESETS, GeneratorConfig, GeneratorLoss, NextScaleTransformer

__all__ = [
    "HEAD_KINDS", "PRESETS", "BitsHead", "FactorizedLeechHead", "FullHead", "GeneratorConfig", "GeneratorLoss",
    "NextScaleTransformer", "build_head", "build_optimizers", "flatten_scales", "fused_linear_cross_entropy",
    "sample_scales", "teacher_forcing_inputs",
]
