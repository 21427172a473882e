"""ViT tokenizer: presets, positional embeddings, any-resolution forward, gradients through the quantizer."""
from __future__ import annotations

import math

import pytest
import torch

from models.tokenizer import MODEL_PRESETS, Tokenizer, TokenizerConfig, with_preset_defaults
from models.tokenizer.vit import PositionalEmbedding, sincos_2d_embedding


def tiny_config(**overrides) -> TokenizerConfig:
    fields = dict(preset="", width=32, encoder_depth=1, decoder_depth=1, num_heads=2, latent_dim=8,
                  reference_size=32, quantizer="e8")
    return TokenizerConfig(**(fields | overrides))


def vit_block_parameters(width: int, mlp_ratio: float = 4.0) -> int:
    """Parameters of one pre-norm ViT block with qkv bias: 2 LayerNorms, qkv, proj, 2-layer MLP."""
    hidden = int(width * mlp_ratio)
    return 2 * 2 * width + (3 * width * width + 3 * width) + (width * width + width) + (
        width * hidden + hidden + hidden * width + width)


@pytest.mark.parametrize("preset", ["S", "B"])
def test_preset_parameter_count_matches_the_architecture(preset: str) -> None:
    sizes = MODEL_PRESETS[preset]
    config = TokenizerConfig(**with_preset_defaults({"preset": preset, "quantizer": "bsq",
                                                     "quantizer_kwargs": {"dim": 24}}))
    with torch.device("meta"):
        model = Tokenizer(config)
    width, patch, latent = sizes["width"], 8, 24
    blocks = (sizes["encoder_depth"] + sizes["decoder_depth"]) * vit_block_parameters(width)
    ends = (3 * patch * patch * width + width) + 2 * width + (width * latent + latent)  # patchify, norm, to_latent
    ends += (latent * width + width) + 2 * width + (width * 3 * patch * patch + 3 * patch * patch)
    assert sum(p.numel() for p in model.parameters()) == blocks + ends
    assert model.encoder.transformer.blocks[0].attn.num_heads == sizes["num_heads"]


def test_preset_conflict_and_unknown_preset_are_errors() -> None:
    with pytest.raises(ValueError, match="conflicts with preset 'S'"):
        TokenizerConfig(preset="S", width=512)
    with pytest.raises(ValueError, match="unknown model preset 'XL'"):
        TokenizerConfig(preset="XL")
    assert with_preset_defaults({"preset": "B", "latent_dim": 18})["width"] == 768


def test_quantizer_dimension_must_match_latent_dim() -> None:
    with pytest.raises(ValueError, match="dimension 8 but model.latent_dim is 24"):
        Tokenizer(tiny_config(latent_dim=24))


def test_sincos_embedding_is_the_integer_position_embedding_on_the_reference_grid() -> None:
    embedding = sincos_2d_embedding((4, 6), (4, 6), 16)
    omega = 10000.0 ** (-torch.arange(4, dtype=torch.float64) / 4)
    row, col = 2, 5
    expected = torch.cat([torch.sin(row * omega), torch.cos(row * omega), torch.sin(col * omega),
                          torch.cos(col * omega)]).float()
    torch.testing.assert_close(embedding[row * 6 + col], expected)


def test_sincos_embedding_of_a_finer_grid_interpolates_the_reference_positions() -> None:
    reference = sincos_2d_embedding((4, 4), (4, 4), 32).reshape(4, 4, 32)
    fine = sincos_2d_embedding((8, 8), (4, 4), 32).reshape(8, 8, 32)
    torch.testing.assert_close(fine[::2, ::2], reference)  # every other position of the 2x grid is a reference one


def test_learned_embedding_is_resampled_for_other_grids() -> None:
    positional = PositionalEmbedding("learned", 16, reference_grid=4)
    assert positional.embedding((4, 4), torch.device("cpu")) is positional.table_1ND
    assert positional.embedding((6, 2), torch.device("cpu")).shape == (1, 12, 16)


@pytest.mark.parametrize("pos_embed", ["sincos", "learned"])
@pytest.mark.parametrize("size", [(32, 32), (24, 48), (64, 40)])
def test_forward_works_at_any_size_divisible_by_the_patch(pos_embed: str, size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    model = Tokenizer(tiny_config(pos_embed=pos_embed))
    images = torch.rand(2, 3, *size)
    output = model(images)
    assert output.reconstruction.shape == images.shape
    assert output.quantizer.indices.shape == (2, size[0] // 8, size[1] // 8)
    assert output.latent.shape == (2, size[0] // 8, size[1] // 8, 8)
    torch.testing.assert_close(output.latent.norm(dim=-1), torch.ones(2, size[0] // 8, size[1] // 8))
    torch.testing.assert_close(model.decode_indices(output.quantizer.indices), output.reconstruction)


def test_bad_images_are_rejected() -> None:
    model = Tokenizer(tiny_config())
    with pytest.raises(ValueError, match="not divisible by the patch size 8"):
        model(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        model(torch.rand(1, 1, 32, 32))
    with pytest.raises(TypeError, match="float tensor"):
        model(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


@pytest.mark.parametrize("quantizer, kwargs, latent_dim, latent_norm", [
    ("e8", {}, 8, "l2"),
    ("bsq", {"dim": 6, "entropy_weight": 0.1}, 6, "l2"),
    ("fsq", {"levels": [8, 5, 5]}, 3, "none"),
    ("random", {"codebook_size": 64, "dim": 8}, 8, "l2"),
])
def test_gradient_reaches_the_encoder_through_the_quantizer(quantizer, kwargs, latent_dim, latent_norm) -> None:
    torch.manual_seed(0)
    model = Tokenizer(tiny_config(quantizer=quantizer, quantizer_kwargs=kwargs, latent_dim=latent_dim,
                                  latent_norm=latent_norm))
    images = torch.rand(2, 3, 32, 32)
    output = model(images)
    ((output.reconstruction - images).abs().mean() + output.quantizer.loss).backward()
    for name in ("patch_embed.weight", "to_latent.weight"):
        gradient = model.encoder.get_parameter(name).grad
        assert gradient is not None and gradient.abs().sum() > 0 and torch.isfinite(gradient).all(), name


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    torch.manual_seed(0)
    model = Tokenizer(tiny_config(encoder_depth=2, decoder_depth=2))
    images = torch.rand(2, 3, 32, 32)
    gradients = []
    for enabled in (False, True):
        model.zero_grad()
        model.set_grad_checkpointing(enabled)
        model(images).reconstruction.square().mean().backward()
        gradients.append([p.grad.clone() for p in model.parameters()])
    for plain, checkpointed in zip(*gradients, strict=True):
        torch.testing.assert_close(plain, checkpointed)


def test_bits_per_token_of_the_ablation_quantizers_are_as_documented() -> None:
    """The FSQ levels of configs/ablation-vits-fsq.yaml match the Λ24 rate to 3 decimals (17.585 bits)."""
    model = Tokenizer(tiny_config(quantizer="fsq", quantizer_kwargs={"levels": [8, 8, 8, 8, 8, 6]}, latent_dim=6,
                                  latent_norm="none"))
    assert model.quantizer.codebook_size == 196_608
    assert round(model.quantizer.bits, 3) == round(math.log2(196_560), 3) == 17.585


@pytest.mark.parametrize("quantizer, kwargs, latent, patch, scales", [
    ("leech24", {}, 24, 4, [1, 2, 3, 4, 6, 8]),                     # the 32x32 preset: 130 tokens
    ("bsq", {"dim": 18}, 18, 4, [1, 2, 3, 4, 6, 8]),
    ("leech24", {}, 24, 16, [1, 2, 3, 4, 5, 6, 8, 10, 13, 16]),     # VAR's 256 px schedule: 680 tokens
])
def test_multiscale_tokenizer_round_trips_through_its_scales(quantizer, kwargs, latent, patch, scales) -> None:
    config = tiny_config(quantizer=quantizer, quantizer_kwargs=kwargs, latent_dim=latent, patch_size=patch,
                         reference_size=patch * scales[-1], scales=scales)
    torch.manual_seed(0)
    tokenizer = Tokenizer(config).eval()
    side = patch * scales[-1]
    images = torch.rand(2, 3, side, side)
    indices = tokenizer.encode_to_scales(images)
    assert [tuple(index_map.shape) for index_map in indices] == [(2, s, s) for s in scales]
    assert sum(s * s for s in scales) == {8: 130, 16: 680}[scales[-1]]
    assert all(index_map.dtype == torch.int64 for index_map in indices)
    with torch.no_grad():
        expected = tokenizer(images).reconstruction
        decoded = tokenizer.decode_from_scales(indices)
    assert torch.equal(decoded, expected)
    with pytest.raises(ValueError, match="one index map per scale|expected 6 index maps|expected 10 index maps"):
        tokenizer.decode_from_scales(indices[:-1])
    with pytest.raises(TypeError, match="list of"):
        tokenizer.decode_from_scales(indices[0])


def test_scales_must_increase() -> None:
    with pytest.raises(ValueError, match="model.scales must be increasing"):
        tiny_config(scales=[2, 1])
