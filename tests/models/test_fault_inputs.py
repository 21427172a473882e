"""Fault inputs to models/: 16-bit PNGs keep their scale, images too small for LPIPS give a clear error."""
import numpy as np
import pytest
import torch
from PIL import Image

from models.data.image_files import load_image
from models.metrics import ImageMetrics, LpipsDistance
from models.metrics.lpips_metric import MIN_SIDE
from models.metrics.psnr import psnr


def write_16_bit_png(path, values_HW):
    Image.fromarray(np.asarray(values_HW, dtype=np.uint16)).save(path)
    with Image.open(path) as image:
        assert image.mode == "I;16"  # the file really is a 16-bit grayscale PNG


@pytest.fixture
def two_16_bit_images(tmp_path):
    """Two different 16-bit images whose values all lie above 255 (each read as all white once)."""
    rows, columns = np.mgrid[0:24, 0:32]
    first = 300 + 80 * rows + 40 * columns
    second = 65535 - 50 * rows * columns
    write_16_bit_png(tmp_path / "first.png", first)
    write_16_bit_png(tmp_path / "second.png", second)
    return (tmp_path / "first.png", first), (tmp_path / "second.png", second)


def test_16_bit_pngs_are_read_at_their_true_scale(two_16_bit_images):
    for path, values in two_16_bit_images:
        expected_HW = torch.from_numpy((values / 65535.0).astype(np.float32))
        gray = load_image(path, mode="L")
        assert gray.shape == (1, 24, 32) and torch.equal(gray[0], expected_HW)
        rgb = load_image(path)
        assert rgb.shape == (3, 24, 32) and all(torch.equal(channel, expected_HW) for channel in rgb)


def test_two_different_16_bit_images_do_not_compare_equal(two_16_bit_images):
    (first_path, _), (second_path, _) = two_16_bit_images
    first, second = load_image(first_path)[None], load_image(second_path)[None]
    assert not torch.equal(first, second)
    assert torch.isfinite(psnr(first, second)).all()  # was inf: both clipped to 255/255
    with pytest.raises(ValueError, match="read as mode 'L' or 'RGB'"):
        load_image(first_path, mode="RGBA")


@pytest.mark.parametrize("net", sorted(MIN_SIDE))
def test_lpips_names_the_smallest_side_it_accepts(net):
    lpips = LpipsDistance(net)
    side = MIN_SIDE[net]
    for height, width in [(side, side + 9), (side + 9, side)]:
        images = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(side))
        assert torch.isfinite(lpips(images[:1], images[1:])).all()  # the bound is the trunk's own
        with pytest.raises(ValueError, match=f"at least {side} px"):  # was a RuntimeError in a pooling
            lpips(images[:1, :, : height - (height == side), : width - (width == side)],
                  images[1:, :, : height - (height == side), : width - (width == side)])


def test_image_metrics_of_tiny_images_are_null_with_warnings():
    metrics = ImageMetrics(lpips_nets=("alex",), fd_vgg16=False)
    recon, ref = torch.rand(2, 2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    with pytest.warns(UserWarning) as caught:
        metrics.update(recon, ref)
    assert any("lpips_alex is null for image0, image1: LPIPS (alex) needs images of at least 31 px"
               in str(warning.message) for warning in caught)
    results = metrics.compute()
    assert results["lpips_alex"] is None and results["ssim"] is None
    assert results["psnr"] == pytest.approx(psnr(recon, ref).double().mean().item(), rel=1e-6)
