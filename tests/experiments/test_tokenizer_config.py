"""Tokenizer run configs: strict YAML -> dataclass mapping, overrides, validation, the shipped config files."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from experiments.training.config_io import apply_overrides, differences, to_mapping
from experiments.tokenizer.config import TokenizerRunConfig, config_from_mapping, load_config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
TRAIN_DIR = {"data": {"train_dir": "photos"}}


def write_yaml(path: Path, mapping: dict) -> Path:
    path.write_text(yaml.safe_dump(mapping))
    return path


def test_defaults_overrides_and_presets(tmp_path: Path) -> None:
    config = load_config(write_yaml(tmp_path / "c.yaml", {**TRAIN_DIR, "model": {"preset": "B"}}),
                         ["train.steps=100", "optim.betas=[0.5, 0.9]", "model.quantizer_kwargs.dim=24",
                          "model.quantizer=bsq", "train.compile=true", "optim.lr=1", "optim.weight_decay=5e-2"])
    assert config.train.steps == 100 and config.optim.betas == [0.5, 0.9] and config.train.compile is True
    assert config.optim.lr == 1.0 and isinstance(config.optim.lr, float) and config.optim.weight_decay == 0.05
    assert (config.model.width, config.model.num_heads, config.model.encoder_depth) == (768, 12, 12)
    assert config.model.quantizer_kwargs == {"dim": 24}
    assert config.loss.gan.weight == 0.0 and config.train.precision == "bf16"  # untouched defaults
    assert config_from_mapping(to_mapping(config)) == config


@pytest.mark.parametrize("mapping, error, message", [
    ({"train": {"stpes": 10}}, ValueError, "unknown config key 'train.stpes'"),
    ({"modle": {}}, ValueError, "unknown config key 'modle'"),
    ({"loss": {"gan": {"wieght": 1}}}, ValueError, "unknown config key 'loss.gan.wieght'"),
    ({"train": {"steps": "many"}}, TypeError, "'train.steps' must be int, got str"),
    ({"train": {"steps": 1.5}}, TypeError, "'train.steps' must be int, got float"),
    ({"train": {"compile": 1}}, TypeError, "'train.compile' must be bool, got int"),
    ({"train": {"steps": True}}, TypeError, "'train.steps' must be int, got bool"),
    ({"optim": {"betas": 0.9}}, TypeError, "'optim.betas' must be a list"),
    ({"optim": {"betas": [0.9, "x"]}}, TypeError, r"'optim.betas\[1\]' must be float"),
    ({"train": {"precision": "fp16"}}, ValueError, "'train.precision' must be one of"),
    ({"train": 5}, TypeError, "section 'train' must be a mapping"),
    ({"model": {"width": 64}}, ValueError, "conflicts with preset 'S'"),
    ({"data": {"crop_size": 100}}, ValueError, "multiples of model.patch_size"),
    ({"train": {"steps": 0}}, ValueError, "train.steps must be positive"),
    ({"loss": {"vf": {"weight": 0.1}}}, ValueError, "needs loss.vf.weights"),
])
def test_config_errors_name_the_key(mapping: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        config_from_mapping({**mapping, "data": {"train_dir": "photos", **mapping.get("data", {})}})


def test_missing_train_dir_and_bad_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="data.train_dir is not set"):
        config_from_mapping({})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("train: [unclosed")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(TypeError, match="mapping at the top level"):
        load_config(tmp_path / "list.yaml")
    with pytest.raises(ValueError, match="section.key=value"):
        apply_overrides({}, ["train.steps"])
    with pytest.raises(ValueError, match="train.steps is not a section"):
        apply_overrides({"train": {"steps": 3}}, ["train.steps.x=1"])


def test_shipped_configs_load_and_validate() -> None:
    paths = sorted(CONFIGS.glob("*.yaml"))
    assert {"tiny-cpu.yaml", "ablation-vits-leech24.yaml", "ablation-vits-bsq.yaml", "ablation-vits-random.yaml",
            "ablation-vits-fibonacci.yaml", "ablation-vits-fsq.yaml"} <= {path.name for path in paths}
    from experiments.generator.config import GeneratorRunConfig
    from experiments.generator.config import load_config as load_generator_config

    generator_configs = [path for path in paths if path.name.startswith("fmnist-generator-")]
    assert len(generator_configs) == 3
    for path in paths:
        if path in generator_configs:
            assert isinstance(load_generator_config(path), GeneratorRunConfig)
        else:
            assert isinstance(load_config(path), TokenizerRunConfig)


def test_ablation_configs_differ_only_in_the_quantizer_and_run_directory() -> None:
    base = to_mapping(load_config(CONFIGS / "ablation-vits-leech24.yaml"))
    allowed = ("model.quantizer", "model.latent_dim", "model.latent_norm", "train.run_dir")
    for name in ("bsq", "random", "fibonacci", "fsq"):
        config = load_config(CONFIGS / f"ablation-vits-{name}.yaml")
        assert [line for line in differences(base, to_mapping(config)) if not line.startswith(allowed)] == []
        assert config.model.preset == "S" and config.model.patch_size == 8 and config.data.crop_size == 128
        assert config.loss.gan.weight == 0 and config.loss.lpips > 0 and config.train.precision == "bf16"
    assert base["model"]["latent_dim"] == 24
    assert load_config(CONFIGS / "ablation-vits-bsq.yaml").model.latent_dim == 18


def test_continuous_config_is_the_leech24_ablation_without_quantization() -> None:
    base = to_mapping(load_config(CONFIGS / "ablation-vits-leech24.yaml"))
    continuous = load_config(CONFIGS / "fidelity-continuous.yaml")
    assert [line for line in differences(base, to_mapping(continuous))
            if not line.startswith(("model.quantizer", "train.run_dir"))] == []
    assert continuous.model.quantizer == "identity" and continuous.model.quantizer_kwargs == {"dim": 24}
    assert continuous.model.latent_norm == "l2" and continuous.model.latent_dim == 24


def test_differences_lists_changed_nested_keys() -> None:
    changed = differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}, "d": 4})
    assert changed == ["a.c: 2 != 3", "d: '<absent>' != 4"]


@pytest.mark.parametrize("name", ["foo", "cuda:x", ""])
def test_unknown_device_names_are_value_errors(name: str) -> None:
    from experiments.training.distributed import resolve_device

    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device(name)
