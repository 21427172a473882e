"""Faults around training runs: broken or foreign checkpoints, a second writer, hostile configs, logs cut short.

Every scenario starts from a copy of one small CPU run (configs/tiny-cpu.yaml without LPIPS, 4 steps,
a checkpoint at every step, 3 kept) on generated images.
"""
from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import pytest

from experiments.training.checkpoints import (IncompleteCheckpointError, find_latest, prune_checkpoints,
                                              resolve_checkpoint)
from experiments.training.config_io import load_yaml_mapping
from experiments.training.metrics_log import CsvLog
from experiments.training.run_dir import RunDirectoryLock
from tests.experiments.test_tokenizer_train import TINY, generated_folder, read_csv, slq

pytestmark = pytest.mark.xdist_group("tokenizer-train")


def train(train_dir: Path, run_dir: Path, *extra: str) -> int:
    return slq("train-tokenizer", "--config", TINY, "--set", f"data.train_dir={train_dir}",
               "--set", f"train.run_dir={run_dir}", "--set", "loss.lpips=0", "--set", "train.checkpoint_every=1",
               "--set", "train.keep_checkpoints=3", *extra)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return generated_folder(tmp_path_factory.mktemp("fault-images") / "train", ["a.png", "b.png"], (40, 40), 3)


@pytest.fixture(scope="module")
def finished_run(images, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("fault-run") / "run"
    assert train(images, run_dir) == 0
    return run_dir


@pytest.fixture
def run_copy(finished_run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


def steps_of(run_dir: Path) -> list[str]:
    return sorted(path.name for path in (run_dir / "checkpoints").glob("step_*"))


@pytest.mark.parametrize("damage", ["delete trainer state", "empty latest", "latest names a missing step",
                                    "delete newest step", "flip a bit in the weights"])
def test_resume_auto_falls_back_to_the_newest_complete_checkpoint(images, run_copy: Path, damage: str,
                                                                  capsys) -> None:
    newest = run_copy / "checkpoints" / "step_00000004"
    if damage == "delete trainer state":
        (newest / "trainer_state.pt").unlink()
    elif damage == "empty latest":
        (run_copy / "checkpoints" / "latest").write_text("")
    elif damage == "latest names a missing step":
        (run_copy / "checkpoints" / "latest").write_text("step_00000009\n")
    elif damage == "delete newest step":
        shutil.rmtree(newest)
    else:
        data = bytearray((newest / "model.safetensors").read_bytes())
        data[-5] ^= 0x10
        (newest / "model.safetensors").write_bytes(bytes(data))
    broken_newest = damage in ("delete trainer state", "delete newest step", "flip a bit in the weights")
    expected = "step_00000003" if broken_newest else "step_00000004"
    assert find_latest(run_copy).name == expected
    assert train(images, run_copy, "--resume", "auto", "--set", "train.steps=5") == 0
    message = capsys.readouterr().err
    assert f"resuming from {run_copy / 'checkpoints' / expected}" in message
    if damage == "flip a bit in the weights":
        assert "model.safetensors does not match its SHA-256" in message
    rows = read_csv(run_copy / "train.csv")
    assert [row["step"] for row in rows] == ["2", "4", "5"]
    assert "step_00000005" in steps_of(run_copy)
    assert find_latest(run_copy).name == "step_00000005"


def test_a_run_whose_checkpoints_are_all_broken_stops_instead_of_starting_over(images, run_copy: Path) -> None:
    for step_dir in (run_copy / "checkpoints").glob("step_*"):
        (step_dir / "trainer_state.pt").unlink()
    before = (run_copy / "train.csv").read_bytes()
    with pytest.raises(IncompleteCheckpointError, match="every checkpoint under .* is incomplete or corrupt"):
        train(images, run_copy, "--resume", "auto")
    assert (run_copy / "train.csv").read_bytes() == before
    assert len(steps_of(run_copy)) == 3


def test_pruning_keeps_the_newest_complete_checkpoint_when_a_newer_one_is_broken(run_copy: Path) -> None:
    (run_copy / "checkpoints" / "step_00000004" / "manifest.json").unlink()
    prune_checkpoints(run_copy / "checkpoints", keep=1)
    assert steps_of(run_copy) == ["step_00000003", "step_00000004"]


def test_explicit_checkpoint_with_a_foreign_weights_file_is_refused_naming_the_file(
        images, run_copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert train(images, other, "--set", "train.steps=1", "--set", "model.quantizer=bsq",
                 "--set", "model.quantizer_kwargs.dim=8") == 0
    target = run_copy / "checkpoints" / "step_00000004"
    shutil.copy(other / "checkpoints" / "step_00000001" / "ema.safetensors", target / "ema.safetensors")
    with pytest.raises(IncompleteCheckpointError, match=r"ema\.safetensors does not match its SHA-256"):
        resolve_checkpoint(target)
    with pytest.raises(IncompleteCheckpointError, match=r"ema\.safetensors does not match"):
        slq("eval-tokenizer", target, "--data", images)


def test_a_second_writer_of_a_run_directory_gets_a_clear_error(images, run_copy: Path) -> None:
    with RunDirectoryLock(run_copy):
        with pytest.raises(ValueError, match=r"run directory .* is in use by pid \d+"):
            train(images, run_copy, "--resume", "auto", "--set", "train.steps=5")
    assert train(images, run_copy, "--resume", "auto", "--set", "train.steps=5") == 0  # released


def test_rewriting_the_metrics_log_at_resume_is_all_or_nothing(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "train.csv"
    path.write_text("step,loss\n1,0.5\n2,0.4\n3,0.3\n")

    def crash(*args, **kwargs):
        raise OSError("killed while writing")

    monkeypatch.setattr(csv.DictWriter, "writerows", crash)
    with pytest.raises(OSError, match="killed"):
        CsvLog(path, resume_step=2)
    assert path.read_text() == "step,loss\n1,0.5\n2,0.4\n3,0.3\n"
    monkeypatch.undo()
    CsvLog(path, resume_step=2)
    assert path.read_text().splitlines() == ["step,loss", "1,0.5", "2,0.4"]


def test_a_garbage_metrics_log_is_named(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(b"\x00\xff garbage\nnot,a,log\n")
    with pytest.raises(ValueError, match=r"metrics log .*train\.csv is not a CSV file"):
        CsvLog(path, resume_step=3)


def test_yaml_alias_bombs_are_refused_at_once(tmp_path: Path) -> None:
    lines = ["model:", "  quantizer_kwargs:", '    a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"    a{k}: &a{k} [*a{k - 1}, *a{k - 1}, *a{k - 1}, *a{k - 1}, *a{k - 1}, *a{k - 1}, *a{k - 1}, "
              f"*a{k - 1}, *a{k - 1}]" for k in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"bomb\.yaml uses the YAML alias \*a0"):
        load_yaml_mapping(bomb)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("override, message", [
    ("optim.lr=.inf", "config key 'optim.lr' must be a finite number, got inf"),
    ("loss.l1=.nan", "config key 'loss.l1' must be a finite number, got nan"),
    ("train.seed=100000000000000000000000", "config key 'train.seed' = 100000000000000000000000 is out of"),
    ("loss.l1=-1", "loss.l1 must be >= 0, got -1.0"),
    ("optim.weight_decay=-1", "optim.weight_decay must be >= 0, got -1.0"),
])
def test_config_values_get_messages_that_name_the_key(images, tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        train(images, tmp_path / "run", "--set", override)


def test_unreadable_configs_and_a_run_dir_that_is_a_file_are_named(images, tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match=r"binary\.yaml is not UTF-8 text"):
        load_yaml_mapping(binary)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    with pytest.raises(ValueError, match="train.run_dir .*a-file exists and is not a directory"):
        train(images, a_file)
