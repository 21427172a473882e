"""ImageMetrics and DistributionMetrics: per-image rows, means, null metrics with warnings, set metrics."""
import pytest
import torch
from torch import nn

import models.metrics.distribution_metrics as distribution_module
from models.metrics import DistributionMetrics, ImageMetrics, LpipsDistance, frechet_distance, ms_ssim, psnr, ssim
from models.metrics.vgg_features import pool5_vectors
from tests.metrics_images import noisy_pair


class PatchProjection(nn.Module):
    """Stand-in for VGG16Pool5 with its output layout (stride 32), but 64-d so that few samples suffice:
    a fixed random projection of 32x32 patches."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 64, kernel_size=32, stride=32)
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=generator) / 32)
            self.conv.bias.zero_()

    def forward(self, images):
        return self.conv(images)


@pytest.fixture
def patch_features(monkeypatch):
    monkeypatch.setattr(distribution_module, "VGG16Pool5", PatchProjection)
    return PatchProjection()


def test_set_metrics_of_identical_sets_and_the_fd_of_spatial_features(patch_features):
    generator = torch.Generator().manual_seed(3)
    reference = torch.rand(4, 3, 64, 32 * 20, generator=generator)  # 4 x 2 x 20 = 160 positions > 64
    generated = (reference + 0.2 * torch.randn(reference.shape, generator=generator)).clamp(0, 1)
    same = DistributionMetrics()
    same.update(reference, reference)
    results = same.compute()
    assert results["fd_vgg16_pool5"] == pytest.approx(0.0, abs=1e-9)
    assert results["precision_vgg16"] == results["recall_vgg16"] == 1.0
    metrics = DistributionMetrics()
    for start in (0, 2):  # batch by batch, one side at a time
        metrics.update(reference_BCHW=reference[start : start + 2])
        metrics.update(generated_BCHW=generated[start : start + 2])
    with torch.no_grad():
        expected = frechet_distance(pool5_vectors(patch_features(reference), "spatial"),
                                    pool5_vectors(patch_features(generated), "spatial"))
    assert metrics.compute()["fd_vgg16_pool5"] == pytest.approx(expected, rel=1e-6)
    assert expected > 0


def test_unsupported_set_metrics_are_null_with_a_warning(patch_features):
    metrics = DistributionMetrics()
    with pytest.warns(UserWarning, match="below 32 px"):
        metrics.update(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))
    metrics.update(torch.rand(2, 3, 128, 128), torch.rand(2, 3, 128, 128))  # 2 x 16 positions < 64
    with pytest.warns(UserWarning) as caught:
        results = metrics.compute()
    messages = sorted(str(warning.message) for warning in caught)
    assert len(messages) == 2
    assert messages[0].startswith("FD-VGG16-pool5 is null: ") and "more samples than feature dimensions" in messages[0]
    assert messages[1].startswith("precision/recall (vgg16) is null: real features: need at least 4 samples")
    assert results == {"fd_vgg16_pool5": None, "precision_vgg16": None, "recall_vgg16": None}
    only_generated = DistributionMetrics()
    only_generated.update(generated_BCHW=torch.rand(1, 3, 64, 64))
    with pytest.warns(UserWarning, match="no reference images were given"):
        only_generated.compute()


def test_inception_metrics_with_user_weights(tmp_path):
    from models.metrics import FIDInceptionV3

    weights = tmp_path / "inception.pth"
    torch.save(FIDInceptionV3().net.state_dict(), weights)
    metrics = DistributionMetrics(vgg16=False, inception_weights=weights, inception_score_splits=1)
    images = torch.rand(2, 3, 40, 40, generator=torch.Generator().manual_seed(4))
    metrics.update(images, images.flip(-1))
    with pytest.warns(UserWarning) as caught:
        results = metrics.compute()
    assert sorted(str(warning.message).split(":")[0] for warning in caught) == [
        "FID is null", "precision/recall (inception) is null"]
    assert results["fid"] is None and results["inception_score_std"] == 0.0
    assert 1.0 <= results["inception_score"] <= 2.0  # two images: at most 2 distinct classes


@pytest.fixture(scope="module")
def alex_only():
    return ImageMetrics(lpips_nets=("alex",), fd_vgg16=False)


def test_image_metrics_rows_and_means_match_the_functions(alex_only):
    alex_only.reset()
    recon, reference = noisy_pair(164, 170, noise=0.1)
    small_recon, small_reference = noisy_pair(40, 48, noise=0.05, seed=1)
    alex_only.update(recon, reference, ["big"])
    with pytest.warns(UserWarning, match="ms_ssim is null for small: MS-SSIM needs .* 161 px"):
        alex_only.update(small_recon, small_reference, ["small"])
    results = alex_only.compute()
    assert results["num_images"] == 2 and [row["name"] for row in results["per_image"]] == ["big", "small"]
    big, small = results["per_image"]
    assert (big["height"], big["width"]) == (164, 170)
    assert big["ms_ssim"] == pytest.approx(ms_ssim(recon, reference).item(), abs=1e-6)
    assert small["ms_ssim"] is None and results["ms_ssim"] is None
    lpips = LpipsDistance("alex")
    for key, function in (("psnr", psnr), ("ssim", ssim), ("lpips_alex", lpips)):
        values = [function(recon, reference).item(), function(small_recon, small_reference).item()]
        assert [big[key], small[key]] == pytest.approx(values, abs=1e-6)
        assert results[key] == pytest.approx(sum(values) / 2, abs=1e-6)
    assert "lpips_vgg" not in results


def test_image_metrics_input_errors(alex_only):
    alex_only.reset()
    with pytest.raises(ValueError, match="no images"):
        alex_only.compute()
    with pytest.raises(ValueError, match="differs from reference shape"):
        alex_only.update(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 33))
    with pytest.raises(ValueError, match="2 names for a batch of 1"):
        alex_only.update(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), ["a", "b"])
