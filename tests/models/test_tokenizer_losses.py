"""Tokenizer losses: GAN terms, adaptive weight, VF alignment."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from models.tokenizer.discriminator import PatchDiscriminator, hinge_discriminator_loss, hinge_generator_loss
from models.tokenizer.losses import GanConfig, GeneratorLoss, LossConfig, adaptive_weight, discriminator_loss
from models.tokenizer import Tokenizer, TokenizerConfig
from models.tokenizer.vf_loss import vf_alignment_losses


def test_hinge_losses_match_their_definitions() -> None:
    real = torch.tensor([2.0, 0.5, -1.0])
    fake = torch.tensor([-2.0, 0.0, 1.0])
    # relu(1 - real) = [0, .5, 2] -> mean 5/6; relu(1 + fake) = [0, 1, 2] -> mean 1
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx(0.5 * (5 / 6 + 1))
    assert hinge_generator_loss(fake).item() == pytest.approx(1 / 3)


@pytest.mark.parametrize("layers, size, expected", [(3, 64, 6), (2, 32, 6), (1, 32, 14)])
def test_patch_discriminator_logit_map_size(layers: int, size: int, expected: int) -> None:
    logits = PatchDiscriminator(channels=8, num_layers=layers)(torch.rand(2, 3, size, size))
    assert logits.shape == (2, 1, expected, expected)


def test_adaptive_weight_is_the_ratio_of_gradient_norms() -> None:
    parameter = nn.Parameter(torch.tensor([1.0, 2.0]))
    reference = (parameter**2).sum()  # gradient 2p = (2, 4), norm √20
    other = 3.0 * parameter.sum()  # gradient (3, 3), norm √18
    weight = adaptive_weight(reference, other, parameter, max_weight=1e4)
    assert weight.item() == pytest.approx(math.sqrt(20) / (math.sqrt(18) + 1e-4))
    assert not weight.requires_grad
    assert adaptive_weight(reference, other, parameter, max_weight=0.5).item() == 0.5


def _tiny_tokenizer() -> Tokenizer:
    torch.manual_seed(0)
    return Tokenizer(TokenizerConfig(preset="", width=32, encoder_depth=1, decoder_depth=1, num_heads=2,
                                     latent_dim=8, reference_size=32, quantizer="e8"))


def test_gan_term_starts_at_its_step_and_leaves_the_discriminator_gradients_alone() -> None:
    tokenizer = _tiny_tokenizer()
    discriminator = PatchDiscriminator(channels=8, num_layers=2)
    config = LossConfig(lpips=0.0, gan=GanConfig(weight=0.5, start_step=10))
    loss = GeneratorLoss(config, None, discriminator, None)
    images = torch.rand(2, 3, 32, 32)
    last_layers = (tokenizer.decoder.last_layer_weight, tokenizer.encoder.to_latent.weight)
    before_total, before = loss(images, tokenizer(images), None, 9, *last_layers)
    assert before["gan_generator"].item() == before["gan_weight"].item() == 0.0
    assert before_total.item() == pytest.approx(before["l1"].item())
    total, after = loss(images, tokenizer(images), None, 10, *last_layers)
    assert after["gan_weight"].item() > 0
    total.backward()
    assert all(p.grad is None for p in discriminator.parameters())
    assert all(p.requires_grad for p in discriminator.parameters())
    expected = after["l1"] + 0.5 * after["gan_weight"] * after["gan_generator"]
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    d_loss, d_logs = discriminator_loss(discriminator, images, tokenizer(images).reconstruction)
    d_loss.backward()
    assert all(p.grad is not None for p in discriminator.parameters())
    assert set(d_logs) == {"gan_discriminator", "logits_real", "logits_fake"}


def test_generator_loss_requires_the_modules_its_config_names() -> None:
    with pytest.raises(ValueError, match="LPIPS"):
        GeneratorLoss(LossConfig(lpips=0.1), None, None, None)
    with pytest.raises(ValueError, match="discriminator"):
        GeneratorLoss(LossConfig(lpips=0.0, gan=GanConfig(weight=0.1)), None, None, None)


def _brute_force_vf(z, f, m1, m2):
    batch, h, w, _ = z.shape
    cos_terms, dist_terms = [], []
    for b in range(batch):
        tokens_z = [z[b, i, j] for i in range(h) for j in range(w)]
        tokens_f = [f[b, i, j] for i in range(h) for j in range(w)]
        for a, c in zip(tokens_z, tokens_f, strict=True):
            cos_terms.append(max(0.0, 1 - m1 - torch.cosine_similarity(a, c, dim=0).item()))
        for zi, fi in zip(tokens_z, tokens_f, strict=True):
            for zj, fj in zip(tokens_z, tokens_f, strict=True):
                gap = torch.cosine_similarity(zi, zj, dim=0) - torch.cosine_similarity(fi, fj, dim=0)
                dist_terms.append(max(0.0, abs(gap.item()) - m2))
    return sum(cos_terms) / len(cos_terms), sum(dist_terms) / len(dist_terms)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), m1=st.floats(0.0, 0.9), m2=st.floats(0.0, 0.5))
def test_vf_losses_match_a_brute_force_computation(seed: int, m1: float, m2: float) -> None:
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(2, 2, 3, 5, generator=generator, dtype=torch.float64)
    f = torch.randn(2, 2, 3, 5, generator=generator, dtype=torch.float64)
    cosine, distance = vf_alignment_losses(z, f, m1, m2)
    expected_cosine, expected_distance = _brute_force_vf(z, f, m1, m2)
    assert cosine.item() == pytest.approx(expected_cosine, abs=1e-5)
    assert distance.item() == pytest.approx(expected_distance, abs=1e-5)


def test_vf_losses_vanish_for_aligned_features() -> None:
    features = torch.randn(2, 4, 4, 16)
    cosine, distance = vf_alignment_losses(3.0 * features, features, 0.0, 0.0)
    assert cosine.item() == pytest.approx(0.0, abs=1e-6)
    assert distance.item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        vf_alignment_losses(features, features[:, :2], 0.5, 0.25)
