"""Fréchet distance, k-NN precision/recall, Inception Score and bits per pixel on known cases."""
import math

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models.metrics import (
    bits_per_pixel_entropy, bits_per_pixel_fixed, empirical_entropy_bits, frechet_distance,
    frechet_distance_from_statistics, gaussian_statistics, inception_score, precision_recall,
)


def scipy_frechet(a, b):
    """The textbook formula with scipy.linalg.sqrtm of the (non-symmetric) covariance product."""
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(np.square(mean_a - mean_b).sum() + np.trace(cov_a + cov_b - 2 * root))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 16))
def test_frechet_matches_the_scipy_sqrtm_formula_on_gaussians(seed, dims):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(4 * dims + 10, dims))
    b = rng.normal(size=(3 * dims + 20, dims)) @ rng.normal(size=(dims, dims)) + rng.normal(size=dims)
    assert frechet_distance(a, b) == pytest.approx(scipy_frechet(a, b), rel=1e-7, abs=1e-9)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_frechet_of_identical_sets_is_zero():
    features = torch.randn(300, 32, generator=torch.Generator().manual_seed(0))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)


def test_frechet_of_two_gaussians_is_the_closed_form():
    # N(0, I) vs N(m, 4 I) in 3 dims: |m|^2 + 3 * (1 + 4 - 2 * 2) = |m|^2 + 3
    mean = np.array([1.0, 2.0, 2.0])
    value = frechet_distance_from_statistics(np.zeros(3), np.eye(3), mean, 4 * np.eye(3))
    assert value == pytest.approx(9.0 + 3.0)


def test_frechet_refuses_fewer_samples_than_dimensions():
    with pytest.raises(ValueError, match="more samples than feature dimensions"):
        frechet_distance(np.zeros((24, 512)), np.ones((600, 512)))
    with pytest.raises(ValueError, match="different dimensions"):
        frechet_distance(np.random.rand(50, 3), np.random.rand(50, 4))
    with pytest.raises(ValueError, match="NaN"):
        gaussian_statistics(np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match=r"\(N samples, D dimensions\)"):
        gaussian_statistics(np.zeros(10))


def test_precision_recall_of_identical_sets_is_one():
    features = torch.randn(200, 16, generator=torch.Generator().manual_seed(1))
    assert precision_recall(features, features) == {"precision": 1.0, "recall": 1.0}


def test_precision_recall_of_far_apart_sets_is_zero_and_of_a_subset_is_asymmetric():
    generator = torch.Generator().manual_seed(2)
    real = torch.randn(300, 8, generator=generator)
    assert precision_recall(real, real + 100.0) == {"precision": 0.0, "recall": 0.0}
    # Generated samples that all sit on a few real points: precise, but they miss most of the real set.
    collapsed = real[:5].repeat(20, 1) + 1e-3 * torch.randn(100, 8, generator=generator)
    rates = precision_recall(real, collapsed, k=3)
    assert rates["precision"] == 1.0 and rates["recall"] < 0.2


def test_precision_recall_needs_more_than_k_samples():
    with pytest.raises(ValueError, match="need at least 4 samples"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)


def test_inception_score_of_known_distributions():
    uniform = torch.zeros(100, 10)
    assert inception_score(uniform, splits=1) == pytest.approx((1.0, 0.0))
    confident = torch.full((100, 10), -1e4)
    confident[torch.arange(100), torch.arange(100) % 10] = 0.0  # each class equally often, certainly
    mean, std = inception_score(confident, splits=10)
    assert mean == pytest.approx(10.0) and std == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="need at least 10 samples"):
        inception_score(torch.zeros(5, 10), splits=10)


def test_fixed_length_bits_per_pixel():
    # a 16x16 token map of a 256x256 image with the 196,560-word Λ24 codebook
    assert bits_per_pixel_fixed(196_560, 256, 256 * 256) == pytest.approx(256 * math.log2(196_560) / 65536)
    assert bits_per_pixel_fixed(2**18, 256, 65536) == pytest.approx(18 / 256)
    assert bits_per_pixel_fixed(1, 256, 65536) == 0.0  # one code: nothing to store
    with pytest.raises(ValueError, match="codebook_size"):
        bits_per_pixel_fixed(0, 256, 65536)
    with pytest.raises(ValueError, match="positive"):
        bits_per_pixel_fixed(16, 0, 65536)


def test_entropy_bits_per_pixel():
    indices = torch.tensor([[0, 1], [2, 3]]).repeat(4, 8)  # uniform over 4 symbols: 2 bits/token
    assert empirical_entropy_bits(indices) == pytest.approx(2.0)
    assert bits_per_pixel_entropy(indices, pixels=indices.numel() * 64) == pytest.approx(2.0 / 64)
    constant = empirical_entropy_bits(torch.full((10,), 7))
    assert constant == 0.0 and math.copysign(1.0, constant) == 1.0  # 0.0, not -0.0
    skewed = torch.tensor([0, 0, 0, 1])
    expected = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert empirical_entropy_bits(skewed) == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        bits_per_pixel_entropy(torch.tensor([0, 4]), pixels=10, codebook_size=4)
    with pytest.raises(TypeError, match="integer"):
        empirical_entropy_bits(torch.tensor([0.5]))
    with pytest.raises(ValueError, match="empty"):
        empirical_entropy_bits(torch.zeros(0, dtype=torch.int64))
