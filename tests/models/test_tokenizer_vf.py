"""VF loss with a frozen DINOv2 (timm vit_small_patch14_dinov2) loaded from a user safetensors file.

No DINOv2 weights are available offline, so the user-weights path is exercised with random weights
saved to a temporary file (at timm's default 518 px, like a real checkpoint) and loaded at another size.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from models.tokenizer.losses import GeneratorLoss, LossConfig, VFConfig
from models.tokenizer import Tokenizer, TokenizerConfig
from models.tokenizer.vf_loss import DinoFeatures

# The module-scoped fixtures are expensive: keep this file on one xdist worker.
pytestmark = pytest.mark.xdist_group("tokenizer-vf")

MODEL = "vit_small_patch14_dinov2"


@pytest.fixture(scope="module")
def random_dino_file(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    import timm

    with torch.device("meta"):
        model = timm.create_model(MODEL, pretrained=False)
    shapes = {name: tensor.shape for name, tensor in model.state_dict().items()}
    generator = torch.Generator().manual_seed(0)
    state = {name: 0.02 * torch.randn(shape, generator=generator) for name, shape in shapes.items()}
    path = tmp_path_factory.mktemp("dino") / "dinov2-random.safetensors"
    save_file(state, str(path))
    return path, state


def test_features_come_from_the_file_and_follow_the_latent_grid(random_dino_file) -> None:
    path, state = random_dino_file
    dino = DinoFeatures(path, image_size=56, model_name=MODEL)
    # the file's weights are in the model (the position table resampled from 37x37 to 4x4 patches)
    torch.testing.assert_close(dino.model.blocks[3].attn.qkv.weight, state["blocks.3.attn.qkv.weight"])
    assert state["pos_embed"].shape[1] == 1 + 37 * 37 and dino.model.pos_embed.shape[1] == 1 + 4 * 4
    images = torch.rand(2, 3, 32, 32)
    features = dino(images, (4, 4))
    assert features.shape == (2, 4, 4, 384)
    resized = (torch.nn.functional.interpolate(images, size=(56, 56), mode="bicubic", align_corners=False,
                                               antialias=True) - dino.mean) / dino.std
    expected = dino.model.forward_features(resized)[:, dino.model.num_prefix_tokens:].reshape(2, 4, 4, 384)
    torch.testing.assert_close(features, expected)
    assert dino(images, (2, 3)).shape == (2, 2, 3, 384)
    assert not any(p.requires_grad for p in dino.parameters())


def test_vf_loss_trains_the_projection_and_the_encoder(random_dino_file) -> None:
    path, _ = random_dino_file
    torch.manual_seed(0)
    tokenizer = Tokenizer(TokenizerConfig(preset="", width=32, encoder_depth=1, decoder_depth=1, num_heads=2,
                                          latent_dim=8, reference_size=32, quantizer="e8"))
    dino = DinoFeatures(path, image_size=56, model_name=MODEL)
    projection = torch.nn.Linear(8, dino.feature_dim)
    loss = GeneratorLoss(LossConfig(lpips=0.0, vf=VFConfig(weight=0.1, weights=str(path))), None, None, dino)
    images = torch.rand(2, 3, 32, 32)
    output = tokenizer(images)
    total, logs = loss(images, output, projection(output.latent), 0, tokenizer.decoder.last_layer_weight,
                       tokenizer.encoder.to_latent.weight)
    assert logs["vf_cos"] > 0 and logs["vf_weight"] > 0
    total.backward()
    assert projection.weight.grad.abs().sum() > 0
    assert tokenizer.encoder.to_latent.weight.grad.abs().sum() > 0


def test_unusable_weight_files_are_clear_errors(random_dino_file, tmp_path: Path) -> None:
    path, state = random_dino_file
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        DinoFeatures(corrupt, image_size=56, model_name=MODEL)
    partial = tmp_path / "partial.safetensors"
    save_file({name: tensor for name, tensor in state.items() if not name.startswith("blocks.11.")}, str(partial))
    with pytest.raises(ValueError, match="missing keys blocks.11"):
        DinoFeatures(partial, image_size=56, model_name=MODEL)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        DinoFeatures(tmp_path / "absent.safetensors", image_size=56, model_name=MODEL)
    with pytest.raises(ValueError, match="multiple of its patch size 14"):
        DinoFeatures(path, image_size=50, model_name=MODEL)
