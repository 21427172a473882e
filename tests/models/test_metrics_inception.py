"""FID InceptionV3: equal to pytorch-fid's network, TF-graph pool branches, user weights (random, in a temp file)."""
import pytest
import torch
from pytorch_fid import inception as fid_inception
from safetensors.torch import save_file
from torchvision.models import inception as tv_inception

from models.metrics import FIDInceptionV3, load_fid_inception
from models.metrics.inception import INCEPTION_CLASSES, INCEPTION_POOL3_DIM


@pytest.fixture(scope="module")
def random_inception():
    torch.manual_seed(0)
    model = FIDInceptionV3()
    for module in model.modules():  # running stats that keep activations in a sane range
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_var.uniform_(0.5, 2.0)
            module.running_mean.normal_(0, 0.1)
    return model


@pytest.fixture(scope="module")
def images():
    return torch.rand(1, 3, 64, 80, generator=torch.Generator().manual_seed(1))


def test_user_weights_round_trip_through_torch_and_safetensors(random_inception, images, tmp_path):
    expected = random_inception(images)
    assert expected.pool3.shape == (1, INCEPTION_POOL3_DIM)
    assert expected.logits_unbiased.shape == (1, INCEPTION_CLASSES)
    state = random_inception.net.state_dict()
    torch.save(state, tmp_path / "inception.pth")
    save_file({key: value.contiguous() for key, value in state.items()}, tmp_path / "inception.safetensors")
    for name in ("inception.pth", "inception.safetensors"):
        outputs = load_fid_inception(tmp_path / name)(images)
        assert torch.equal(outputs.pool3, expected.pool3)
        assert torch.equal(outputs.logits_unbiased, expected.logits_unbiased)


def test_logits_are_pool3_times_the_classifier_without_bias(random_inception, images):
    outputs = random_inception(images)
    with torch.no_grad():
        biased = random_inception.net.fc(outputs.pool3)
    assert torch.allclose(outputs.logits_unbiased + random_inception.net.fc.bias, biased, atol=1e-4)


def test_pool3_equals_pytorch_fid_inception_with_the_same_weights(random_inception, images, monkeypatch):
    # pytorch-fid's own builder, its download replaced by our random weights (no network access)
    state = random_inception.net.state_dict()
    monkeypatch.setattr(fid_inception, "load_state_dict_from_url", lambda *args, **kwargs: state)
    reference = fid_inception.InceptionV3([fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[INCEPTION_POOL3_DIM]]).eval()
    with torch.no_grad():
        expected = reference(images)[0].flatten(1)
    torch.testing.assert_close(random_inception(images).pool3, expected, rtol=1e-5, atol=1e-6)


def test_pool_branches_follow_the_tf_graph(random_inception):
    # On a constant image, an average pool that leaves out the zero padding keeps the constant at the
    # border (torchvision's block would not), and Mixed_7c pools with a max; the pool branch comes last.
    block = random_inception.net.Mixed_5b
    x = torch.ones(1, 192, 7, 7)
    with torch.no_grad():
        pool_branch = block(x)[:, -32:]
        assert torch.allclose(pool_branch, block.branch_pool(x))
        torchvision_branch = tv_inception.InceptionA.forward(block, x)[:, -32:]
        assert not torch.allclose(torchvision_branch, block.branch_pool(x))
        ramp = torch.arange(2048 * 9, dtype=torch.float32).view(1, 2048, 3, 3)
        mixed_7c = random_inception.net.Mixed_7c
        expected = mixed_7c.branch_pool(torch.nn.functional.max_pool2d(ramp, 3, stride=1, padding=1))
        assert torch.allclose(mixed_7c(ramp)[:, -192:], expected)


def test_missing_and_wrong_weights_files_get_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="pt_inception-2015-12-05"):
        load_fid_inception(tmp_path / "absent.pth")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read Inception weights file"):
        load_fid_inception(garbage)
    wrong = tmp_path / "vgg.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, wrong)
    with pytest.raises(ValueError, match="does not fit the model"):
        load_fid_inception(wrong)
    nested = tmp_path / "nested.pth"
    torch.save({"state_dict": {"a": torch.zeros(1)}}, nested)
    with pytest.raises(ValueError, match="flat state dict"):
        load_fid_inception(nested)
