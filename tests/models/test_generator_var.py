"""Next-scale transformer: block-causal mask, teacher-forcing inputs, class dropout, loss, presets, optimizers."""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from models.generator import (
    PRESETS,
    FullHead,
    GeneratorConfig,
    NextScaleTransformer,
    build_optimizers,
    flatten_scales,
    teacher_forcing_inputs,
)
from models.generator.optim import parameter_groups
from tests.models.generator_setup import NUM_CLASSES, random_indices, tiny_generator

CLASSES = torch.tensor([1, 2, 0])


@pytest.mark.parametrize("scale", [1, 2])
def test_block_causal_mask_changing_scale_k_leaves_earlier_scales_unchanged(scale: int) -> None:
    model, quantizer = tiny_generator("full")
    inputs_BLd = teacher_forcing_inputs(quantizer, random_indices(quantizer, 3), dtype=torch.float64)
    begin = model.begins[scale]
    changed_BLd = inputs_BLd.clone()
    changed_BLd[:, begin - model.ends[0]:model.ends[scale] - model.ends[0]] += 1.0
    hidden_BLC, changed_hidden_BLC = model(CLASSES, inputs_BLd), model(CLASSES, changed_BLd)
    assert torch.equal(hidden_BLC[:, :begin], changed_hidden_BLC[:, :begin])
    assert not torch.allclose(hidden_BLC[:, begin:], changed_hidden_BLC[:, begin:])


def test_teacher_forcing_inputs_are_area_downsampled_accumulated_codes() -> None:
    """The last input is f̂ without the last scale's term, area-downsampled; f̂ of all terms is the decode."""
    _, quantizer = tiny_generator("bits")
    indices = random_indices(quantizer, 2)
    inputs_BLd = teacher_forcing_inputs(quantizer, indices, dtype=torch.float64)
    assert inputs_BLd.shape == (2, 4 + 9, quantizer.dim)
    f_hat_BdHW = quantizer.indices_to_codes(indices, dtype=torch.float64)
    before_last_BdHW = f_hat_BdHW - quantizer.scale_contribution(indices[-1], 2, torch.float64)
    torch.testing.assert_close(inputs_BLd[:, 4:], before_last_BdHW.flatten(2).transpose(1, 2))
    first_term_BdHW = quantizer.scale_contribution(indices[0], 0, torch.float64)
    torch.testing.assert_close(inputs_BLd[:, :4],
                               F.adaptive_avg_pool2d(first_term_BdHW, 2).flatten(2).transpose(1, 2))
    with pytest.raises(ValueError):
        teacher_forcing_inputs(quantizer, indices[:2])


def test_loss_trains_on_a_fixed_batch_and_reports_accuracy_per_scale() -> None:
    model, quantizer = tiny_generator("full", dtype=torch.float32, class_dropout=0.0)
    indices = random_indices(quantizer, 3)
    inputs_BLd, targets_BL = teacher_forcing_inputs(quantizer, indices), flatten_scales(indices)
    model.train()
    optimizers = build_optimizers(model, kind="adamw", lr=3e-3)
    losses = []
    for _ in range(30):
        result = model.loss(CLASSES, inputs_BLd, targets_BL)
        for optimizer in optimizers:
            optimizer.zero_grad()
        result.loss.backward()
        for optimizer in optimizers:
            optimizer.step()
        losses.append(float(result.loss.detach()))
    assert result.accuracy_K.shape == (3,) and ((0 <= result.accuracy_K) & (result.accuracy_K <= 1)).all()
    assert losses[-1] < 0.5 * losses[0]
    assert float(result.accuracy_K[0]) == 1.0  # scale 0 of three images: memorized
    without_accuracy = model.loss(CLASSES, inputs_BLd, targets_BL, with_accuracy=False)
    assert without_accuracy.accuracy_K is None
    torch.testing.assert_close(without_accuracy.loss, model.loss(CLASSES, inputs_BLd, targets_BL).loss)
    with pytest.raises(ValueError):
        model.loss(CLASSES, inputs_BLd, targets_BL[:, :-1])


def test_class_dropout_replaces_classes_by_the_null_class_in_training_only() -> None:
    model, _ = tiny_generator("full", class_dropout=0.3)
    class_B = torch.full((4000,), 2)
    null_C = model.class_embedding.weight[NUM_CLASSES]
    torch.manual_seed(0)
    assert not (model.condition(class_B) == null_C).all(dim=1).any()  # eval mode
    model.train()
    dropped = (model.condition(class_B) == null_C).all(dim=1).float().mean()
    assert abs(float(dropped) - 0.3) < 0.03
    with pytest.raises(ValueError):
        model.condition(torch.tensor([NUM_CLASSES + 1]))


def test_d16_preset_has_var_d16_size() -> None:
    """VAR-d16 (arXiv 2404.02905, Table 1: 310M parameters); counted on the meta device."""
    config = GeneratorConfig.preset("d16", num_classes=1000, scales=(1, 2, 3, 4, 5, 6, 8, 10, 13, 16), code_dim=32)
    with torch.device("meta"):
        model = NextScaleTransformer(config, FullHead(config.width, 4096))
    assert (config.width, config.depth, config.heads) == PRESETS["d16"] == (1024, 16, 16)
    assert 290e6 < sum(parameter.numel() for parameter in model.parameters()) < 330e6


@pytest.mark.parametrize("fields", [dict(width=30, heads=4), dict(depth=0), dict(class_dropout=1.0),
                                    dict(scales=()), dict(scales=(1, 0)), dict(num_classes=0)])
def test_bad_config_is_rejected(fields: dict) -> None:
    with pytest.raises(ValueError):
        GeneratorConfig(**(dict(num_classes=10, scales=(1, 2), code_dim=4) | fields))


@pytest.mark.parametrize("kind", ["muon", "adamw"])
def test_one_optimizer_step_changes_the_weights(kind: str) -> None:
    model, quantizer = tiny_generator("full", dtype=torch.float32)
    indices = random_indices(quantizer, 3)
    optimizers = build_optimizers(model, kind=kind)
    assert [type(optimizer).__name__ for optimizer in optimizers] == (["Muon", "AdamW"] if kind == "muon" else ["AdamW"])
    before = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}
    model.train()
    model.loss(CLASSES, teacher_forcing_inputs(quantizer, indices), flatten_scales(indices)).loss.backward()
    for optimizer in optimizers:
        optimizer.step()
    unchanged = [name for name, parameter in model.named_parameters() if torch.equal(parameter, before[name])]
    assert unchanged == []
    muon, decay, no_decay = parameter_groups(model)
    assert all(parameter.ndim == 2 for parameter in muon) and len(muon) == 5 * 2  # qkv, out, 2 mlp, modulation; 2 blocks
    assert any(parameter is model.class_embedding.weight for parameter in no_decay)
    assert any(parameter is model.head.proj.weight for parameter in decay)


@pytest.mark.parametrize("kind", ["full", "factorized", "bits"])
def test_loss_under_bfloat16_autocast_gives_float32_gradients(kind: str) -> None:
    model, quantizer = tiny_generator(kind, dtype=torch.float32)
    indices = random_indices(quantizer, 2)
    inputs_BLd, targets_BL = teacher_forcing_inputs(quantizer, indices), flatten_scales(indices)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        result = model.loss(CLASSES[:2], inputs_BLd, targets_BL)
    result.loss.backward()
    assert torch.isfinite(result.loss)
    assert model.head.proj.weight.grad.dtype == torch.float32 and model.head.proj.weight.grad.abs().sum() > 0
