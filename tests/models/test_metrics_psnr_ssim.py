"""PSNR, SSIM and MS-SSIM against closed forms, scikit-image and a numpy MS-SSIM written from the paper."""
import math

import numpy as np
import pytest
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


def _ms_ssim_reference(x_CHW: np.ndarray, y_CHW: np.ndarray) -> float:
    """MS-SSIM (Wang, Simoncelli & Bovik 2003) in float64 numpy: an 11-tap Gaussian (σ 1.5) over the
    valid region, contrast-structure terms at the four finer scales and SSIM at the coarsest (each
    clamped at 0, mean over positions then channels), 2x2 mean pooling that zero-pads odd sides on
    both ends, weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333."""
    window = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    window /= window.sum()

    def blur(a: np.ndarray) -> np.ndarray:
        rows = np.lib.stride_tricks.sliding_window_view(a, 11, axis=1) @ window
        return np.lib.stride_tricks.sliding_window_view(rows, 11, axis=2) @ window

    def halve(a: np.ndarray) -> np.ndarray:
        a = np.pad(a, [(0, 0)] + [(side % 2, side % 2) for side in a.shape[1:]])
        height, width = a.shape[1] // 2 * 2, a.shape[2] // 2 * 2
        return a[:, :height, :width].reshape(a.shape[0], height // 2, 2, width // 2, 2).mean(axis=(2, 4))

    c1, c2 = 0.01**2, 0.03**2
    weights = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
    value = np.ones(x_CHW.shape[0])
    for level, weight in enumerate(weights):
        mu_x, mu_y = blur(x_CHW), blur(y_CHW)
        var_x, var_y = blur(x_CHW * x_CHW) - mu_x**2, blur(y_CHW * y_CHW) - mu_y**2
        cov = blur(x_CHW * y_CHW) - mu_x * mu_y
        term = (2 * cov + c2) / (var_x + var_y + c2)
        if level == len(weights) - 1:
            term = term * (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
        value *= np.maximum(term.mean(axis=(1, 2)), 0.0) ** weight
        x_CHW, y_CHW = halve(x_CHW), halve(y_CHW)
    return float(value.mean())


@pytest.mark.parametrize("height, width", [(161, 170), (191, 233), (256, 256)])
def test_ms_ssim_matches_a_numpy_reference(height, width):
    recon, reference = noisy_pair(height, width, noise=0.15)
    expected = _ms_ssim_reference(recon[0].double().numpy(), reference[0].double().numpy())
    assert ms_ssim(recon, reference).item() == pytest.approx(expected, abs=1e-4)
    assert ms_ssim(reference, reference).item() == pytest.approx(1.0, abs=1e-5)


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
