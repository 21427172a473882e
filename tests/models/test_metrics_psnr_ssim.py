"""PSNR, SSIM and MS-SSIM against closed forms, scikit-image and pytorch-msssim."""
import math

import pytest
import pytorch_msssim
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from models.metrics import ms_ssim, ms_ssim_min_side, psnr, ssim
from tests.metrics_images import lpips_triplet, noisy_pair


def test_psnr_of_a_constant_offset_is_exact():
    reference = torch.zeros(2, 3, 8, 8)
    recon = torch.full((2, 3, 8, 8), 0.1)  # MSE 0.01 -> 20 dB
    assert psnr(recon, reference).tolist() == pytest.approx([20.0, 20.0], abs=1e-5)
    assert psnr(recon * 255, reference, data_range=255.0).tolist() == pytest.approx([20.0, 20.0], abs=1e-5)


def test_psnr_matches_scikit_image_on_the_lpips_images():
    reference, p0, p1 = lpips_triplet()
    ours = psnr(torch.cat([p0, p1]), torch.cat([reference, reference]))
    expected = [peak_signal_noise_ratio(reference[0].numpy(), p[0].numpy(), data_range=1.0) for p in (p0, p1)]
    assert ours.tolist() == pytest.approx(expected, abs=1e-4)


def test_psnr_of_identical_images_is_infinite():
    image = torch.rand(1, 3, 4, 4)
    assert math.isinf(psnr(image, image).item())


@pytest.mark.parametrize("height, width", [(64, 64), (191, 233), (256, 256)])
def test_ssim_matches_scikit_image_and_pytorch_msssim(height, width):
    recon, reference = noisy_pair(height, width)
    ours = ssim(recon, reference).item()
    skimage_value = structural_similarity(
        recon[0].numpy(), reference[0].numpy(), channel_axis=0, data_range=1.0,
        gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    )
    assert ours == pytest.approx(skimage_value, abs=1e-4)
    assert ours == pytest.approx(pytorch_msssim.ssim(recon, reference, data_range=1.0).item(), abs=1e-4)


@pytest.mark.parametrize("height, width", [(161, 170), (191, 233), (256, 256)])
def test_ms_ssim_matches_pytorch_msssim(height, width):
    recon, reference = noisy_pair(height, width, noise=0.15)
    expected = pytorch_msssim.ms_ssim(recon, reference, data_range=1.0).item()
    assert ms_ssim(recon, reference).item() == pytest.approx(expected, abs=1e-4)


def test_ssim_and_ms_ssim_are_batched_per_image():
    recon_a, reference_a = noisy_pair(161, 165, noise=0.05, seed=1)
    recon_b, reference_b = noisy_pair(161, 165, noise=0.2, seed=2)
    recon, reference = torch.cat([recon_a, recon_b]), torch.cat([reference_a, reference_b])
    for metric in (ssim, ms_ssim, psnr):
        batched = metric(recon, reference)
        singles = torch.cat([metric(recon_a, reference_a), metric(recon_b, reference_b)])
        assert torch.allclose(batched, singles, atol=1e-6)
        assert batched[0] > batched[1]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 1.0))
def test_ssim_is_symmetric_and_at_most_one(seed, mix):
    generator = torch.Generator().manual_seed(seed)
    a = torch.rand(1, 2, 12, 13, generator=generator)
    b = (1 - mix) * a + mix * torch.rand(1, 2, 12, 13, generator=generator)
    assert ssim(a, b).item() == pytest.approx(ssim(b, a).item(), abs=1e-6)
    assert ssim(a, a).item() == pytest.approx(1.0, abs=1e-5)
    assert ssim(a, b).item() < 1.0


def test_ms_ssim_below_its_minimum_size_names_the_limit():
    assert ms_ssim_min_side() == 161
    recon, reference = noisy_pair(160, 300)
    with pytest.raises(ValueError, match="at least 161 px"):
        ms_ssim(recon, reference)


@pytest.mark.parametrize("recon, reference, error, message", [
    (torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 17), ValueError, "differs from reference shape"),
    (torch.rand(3, 16, 16), torch.rand(3, 16, 16), ValueError, r"\(B, C, H, W\)"),
    (torch.full((1, 3, 16, 16), float("nan")), torch.rand(1, 3, 16, 16), ValueError, "NaN"),
    (torch.zeros(1, 3, 16, 16, dtype=torch.uint8), torch.zeros(1, 3, 16, 16, dtype=torch.uint8), TypeError, "float"),
    (torch.rand(0, 3, 16, 16), torch.rand(0, 3, 16, 16), ValueError, "empty"),
    (torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), ValueError, "at least 11 px"),
])
def test_bad_images_get_clear_errors(recon, reference, error, message):
    with pytest.raises(error, match=message):
        ssim(recon, reference)
    if "11 px" not in message:
        with pytest.raises(error, match=message):
            psnr(recon, reference)
