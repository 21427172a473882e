"""Product spherical codes: `groups` copies of a code on consecutive coordinate slices, scaled by 1/√groups.

A codeword is (c_1, …, c_g)/√g with each c_k from the component code; this is the code of
`quantizers.SphericalCodeQuantizer` with `groups` > 1. Two distinct codewords are closest when
they differ in one group only, by a closest pair of the component: with component max cosine c
and K neighbours per point, the product has max cosine (g − 1 + c)/g and g·K neighbours per
point (exact for exact c, as a Fraction). Its size N^g is never materialized.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from lattices.codebook import Codebook


@dataclass(frozen=True, eq=False)
class ProductCode:
    """`groups` copies of `component` (see the module docstring); `name` like "e8-roots^3"."""

    component: Codebook
    groups: int

    def __post_init__(self) -> None:
        if not isinstance(self.component, Codebook):
            raise TypeError(f"component must be a Codebook, got {type(self.component).__name__}")
        if isinstance(self.groups, bool) or not isinstance(self.groups, int) or self.groups < 1:
            raise ValueError(f"groups must be a positive int, got {self.groups!r}")

    @property
    def name(self) -> str:
        return f"{self.component.name}^{self.groups}"

    @property
    def dim(self) -> int:
        return self.component.dim * self.groups

    @property
    def size(self) -> int:
        return self.component.size**self.groups

    @property
    def bits(self) -> float:
        return self.groups * self.component.bits

    def max_cosine(self, component_max_cosine: Fraction | float) -> Fraction | float:
        """(g − 1 + c)/g for the component's max cosine c (a Fraction stays exact)."""
        if isinstance(component_max_cosine, Fraction):
            return (self.groups - 1 + component_max_cosine) / self.groups
        return (self.groups - 1 + float(component_max_cosine)) / self.groups

    def delta_min(self, component_max_cosine: Fraction | float) -> float:
        """√(2 − 2·max cosine) = component δ_min / √g."""
        return math.sqrt(2.0 - 2.0 * float(self.max_cosine(component_max_cosine)))
