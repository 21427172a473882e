"""Sampling: KV cache equals recomputation, CFG, top-k / top-p, greedy consistency with teacher forcing, bad input."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models.generator import flatten_scales, sample_scales, teacher_forcing_inputs
from models.generator.categorical import filter_logits, sample_categorical
from models.generator.sampling import guidance_weight, guided_logits
from quantizers.multiscale import MultiScaleResidualQuantizer
from tests.models.generator_setup import NUM_CLASSES, inner_quantizer, tiny_generator

CLASSES = torch.tensor([0, 4])


@pytest.mark.parametrize("kind, cfg", [("full", 0.0), ("full", 2.0), ("bits", 2.0), ("factorized", 2.0)])
def test_kv_cache_sampling_equals_full_recomputation(kind: str, cfg: float) -> None:
    model, quantizer = tiny_generator(kind)
    options = dict(cfg=cfg, temperature=1.3, top_k=50, top_p=0.95)
    cached = sample_scales(model, quantizer, CLASSES, generator=torch.Generator().manual_seed(7), **options)
    recomputed = sample_scales(model, quantizer, CLASSES, generator=torch.Generator().manual_seed(7),
                               use_kv_cache=False, **options)
    assert [tuple(index_map.shape) for index_map in cached] == [(2, 1, 1), (2, 2, 2), (2, 3, 3)]
    for cached_map, recomputed_map in zip(cached, recomputed):
        assert torch.equal(cached_map, recomputed_map)
    quantizer.indices_to_codes(cached, dtype=torch.float64)  # decodable: valid indices of every scale


@pytest.mark.parametrize("kind", ["full", "factorized", "bits"])
def test_greedy_sampling_matches_teacher_forcing_on_its_own_tokens(kind: str) -> None:
    """top_k = 1 samples are the greedy predictions of the training forward fed with their teacher-forcing inputs."""
    model, quantizer = tiny_generator(kind, seed=3)
    indices = sample_scales(model, quantizer, CLASSES, top_k=1, generator=torch.Generator().manual_seed(0))
    hidden_BLC = model(CLASSES, teacher_forcing_inputs(quantizer, indices, dtype=torch.float64))
    assert torch.equal(model.head.predict(hidden_BLC.flatten(0, 1)), flatten_scales(indices).flatten())


def test_cfg_weight_zero_gives_the_conditional_logits_and_the_ramp_is_linear() -> None:
    cond_NV, uncond_NV = torch.randn(4, 9), torch.randn(4, 9)
    assert torch.equal(guided_logits(cond_NV, uncond_NV, 0.0), cond_NV)
    torch.testing.assert_close(guided_logits(cond_NV, uncond_NV, 2.0), 3 * cond_NV - 2 * uncond_NV)
    assert [guidance_weight(3.0, k, 4) for k in range(4)] == [0.0, 1.0, 2.0, 3.0]
    assert [guidance_weight(3.0, k, 4, "constant") for k in range(4)] == [3.0] * 4


def test_cfg_zero_sampling_equals_unguided_sampling_with_a_constant_schedule() -> None:
    model, quantizer = tiny_generator("full")
    guided_off = sample_scales(model, quantizer, CLASSES, cfg=0, cfg_schedule="constant",
                               generator=torch.Generator().manual_seed(1))
    plain = sample_scales(model, quantizer, CLASSES, generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(a, b) for a, b in zip(guided_off, plain))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), classes=st.integers(2, 40))
def test_top_k_one_is_greedy(seed: int, classes: int) -> None:
    logits_NV = torch.randn(6, classes, generator=torch.Generator().manual_seed(seed))
    sampled_N = sample_categorical(logits_NV, top_k=1, temperature=0.5,
                                   generator=torch.Generator().manual_seed(seed))
    assert torch.equal(sampled_N, logits_NV.argmax(dim=1))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), classes=st.integers(1, 30), top_p=st.floats(0.01, 1.0))
def test_top_p_keeps_the_smallest_set_of_largest_entries_with_mass_at_least_p(seed: int, classes: int,
                                                                              top_p: float) -> None:
    logits_V = 2 * torch.randn(classes, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    probs_V = torch.softmax(logits_V, dim=0)
    kept_V = torch.isfinite(filter_logits(logits_V[None], top_p=top_p)[0])
    assert probs_V[kept_V].sum() >= top_p - 1e-12
    assert probs_V[kept_V].sum() - probs_V[kept_V].min() < top_p  # one entry fewer is not enough
    if not kept_V.all():
        assert probs_V[kept_V].min() >= probs_V[~kept_V].max()


def test_top_k_keeps_exactly_the_k_largest() -> None:
    logits_NV = torch.randn(5, 20, generator=torch.Generator().manual_seed(0))
    kept_NV = torch.isfinite(filter_logits(logits_NV, top_k=4))
    expected_NV = torch.zeros_like(kept_NV).scatter(1, logits_NV.topk(4, dim=1).indices, True)
    assert torch.equal(kept_NV, expected_NV)


def test_same_seed_same_samples() -> None:
    model, quantizer = tiny_generator("bits")
    first = sample_scales(model, quantizer, CLASSES, cfg=1.0, generator=torch.Generator().manual_seed(5))
    second = sample_scales(model, quantizer, CLASSES, cfg=1.0, generator=torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(first, second))


@pytest.mark.parametrize("changes", [
    {"class_B": torch.tensor([0, NUM_CLASSES])},
    {"class_B": torch.tensor([-1])},
    {"class_B": torch.tensor([], dtype=torch.int64)},
    {"class_B": torch.tensor([0.0])},
    {"cfg": -0.5},
    {"cfg": float("nan")},
    {"cfg_schedule": "cosine"},
    {"top_k": 0},
    {"top_k": -3},
    {"top_p": 0.0},
    {"top_p": 1.5},
    {"temperature": 0.0},
])
def test_bad_input_raises_before_any_model_work(changes: dict) -> None:
    model, quantizer = tiny_generator("full")
    calls = []
    model.blocks[0].register_forward_pre_hook(lambda *_: calls.append(1))
    arguments = {"class_B": CLASSES} | changes
    with pytest.raises(ValueError):
        sample_scales(model, quantizer, arguments.pop("class_B"), **arguments)
    assert not calls


def test_a_quantizer_with_another_schedule_or_vocabulary_is_rejected() -> None:
    model, _ = tiny_generator("full")
    for other in (MultiScaleResidualQuantizer(inner_quantizer("full"), scales=(1, 3), channel_first=True),
                  MultiScaleResidualQuantizer(inner_quantizer("bits"), scales=(1, 2, 3), channel_first=True)):
        with pytest.raises(ValueError):
            sample_scales(model, other, CLASSES)
