"""Shared quantizer configurations for the tests/test_quantizers_*.py files."""
from __future__ import annotations

from functools import lru_cache

import quantizers

# id -> (registry name, options); small codebooks except the lattice codes themselves
CASES = {
    "leech24": ("leech24", {}),
    "leech24-pair": ("leech24", {"shapes": ("pair",)}),
    "leech24-odd+pair": ("leech24", {"shapes": ("odd", "pair")}),
    "e8-roots": ("e8", {}),
    "e8-shells12-x2": ("e8", {"dim": 16, "shells": 2}),
    "e8-roots-x3": ("e8", {"dim": 24}),
    "d4-x6": ("d4", {"dim": 24}),
    "e6": ("e6", {}),
    "e7": ("e7", {}),
    "k12-x2": ("k12", {"dim": 24}),
    "bw16": ("bw16", {}),
    "fibonacci": ("fibonacci", {"codebook_size": 1000, "dim": 6}),
    "random": ("random", {"codebook_size": 777, "dim": 5, "seed": 3}),
    "bsq": ("bsq", {"dim": 12, "entropy_weight": 0.1, "commitment_weight": 0.25}),
    "lfq": ("lfq", {"dim": 10, "entropy_weight": 0.1}),
    "fsq": ("fsq", {"levels": [8, 5, 5, 3]}),
    "vq-ema": ("vq", {"codebook_size": 300, "dim": 7}),
    "vq-grad": ("vq", {"codebook_size": 300, "dim": 7, "ema": False}),
}
SPHERICAL_CASES = [case for case, (name, _) in CASES.items() if name in ("leech24", "e8", "d4", "e6", "e7",
                                                                            "k12", "bw16", "fibonacci", "random")]
NORMALIZING_CASES = SPHERICAL_CASES + ["bsq"]


def make_fresh(case: str, **overrides) -> quantizers.Quantizer:
    """A new quantizer in eval mode for a case id."""
    name, options = CASES[case]
    return quantizers.build(name, **{**options, **overrides}).eval()


@lru_cache(maxsize=None)
def _make_cached(case: str, overrides: tuple) -> quantizers.Quantizer:
    return make_fresh(case, **dict(overrides))


def make(case: str, **overrides) -> quantizers.Quantizer:
    """A shared eval-mode quantizer for a case id (tests must not change its state)."""
    return _make_cached(case, tuple(sorted(overrides.items())))
