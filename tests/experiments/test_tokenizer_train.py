"""`slq train-tokenizer` / `slq eval-tokenizer` end to end on CPU with configs/tiny-cpu.yaml.

Training and evaluation images are generated (smooth random colour fields with texture), so the
tests need no data set and run on a clean clone.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from experiments.tokenizer import evaluate as eval_tokenizer
from experiments.tokenizer import train as train_tokenizer
from experiments.training.checkpoints import STATE_FILE

# The module-scoped fixtures are expensive: keep this file on one xdist worker.
pytestmark = pytest.mark.xdist_group("tokenizer-train")

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "tiny-cpu.yaml"
TIMING_COLUMNS = {"step_time_s", "images_per_s"}


def slq(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="slq")
    subparsers = parser.add_subparsers(dest="command", required=True)
    train_tokenizer.register(subparsers)
    eval_tokenizer.register(subparsers)
    args = parser.parse_args([str(arg) for arg in argv])
    return args.func(args)


def generated_folder(folder: Path, names: list[str], size: tuple[int, int], seed: int) -> Path:
    """PNG images: bilinearly upsampled random 6x6 colour fields plus fine noise, deterministic in `seed`."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    for name in names:
        coarse = torch.rand(1, 3, 6, 6, generator=generator)
        field = torch.nn.functional.interpolate(coarse, size=size, mode="bilinear", align_corners=False)[0]
        image = (field + 0.05 * torch.randn(field.shape, generator=generator)).clamp(0, 1)
        pixels = (image.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
        Image.fromarray(pixels).save(folder / name)
    return folder


def train_args(train_dir: Path, run_dir: Path, *extra: str) -> list[str]:
    return ["train-tokenizer", "--config", TINY, "--set", f"data.train_dir={train_dir}",
            "--set", f"train.run_dir={run_dir}", *extra]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def without_timing(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{key: value for key, value in row.items() if key not in TIMING_COLUMNS} for row in rows]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tokenizer-data")
    return {
        "train": generated_folder(root / "photos", [f"{n:03d}.png" for n in (1, 2, 3)], (48, 64), seed=1),
        "kodak": generated_folder(root / "kodak", [f"kodim{n:02d}.png" for n in (1, 2)], (72, 80), seed=2),
        "root": root,
    }


@pytest.fixture(scope="module")
def full_run(data) -> Path:
    """4 uninterrupted steps with a Kodak evaluation every 2 steps and a checkpoint every step (2 kept)."""
    run_dir = data["root"] / "full"
    assert slq(*train_args(data["train"], run_dir, "--set", "train.checkpoint_every=1",
                           "--set", f"eval.data_dir={data['kodak']}",
                           "--set", "eval.every=2", "--set", "eval.crop=32", "--set", "eval.lpips_nets=[alex]",
                           "--set", "eval.frechet=false")) == 0
    return run_dir


def test_resumed_run_matches_the_uninterrupted_run_exactly(data, full_run: Path) -> None:
    resumed = data["root"] / "resumed"
    assert slq(*train_args(data["train"], resumed, "--stop-at", "2")) == 0
    assert [row["step"] for row in read_csv(resumed / "train.csv")] == ["2"]
    assert slq(*train_args(data["train"], resumed, "--resume", "auto")) == 0
    assert without_timing(read_csv(resumed / "train.csv")) == without_timing(read_csv(full_run / "train.csv"))
    final_full, final_resumed = (run / "checkpoints" / "step_00000004" for run in (full_run, resumed))
    for name in ("model", "ema"):
        expected = load_file(final_full / f"{name}.safetensors")
        actual = load_file(final_resumed / f"{name}.safetensors")
        assert expected.keys() == actual.keys()
        assert all(torch.equal(expected[key], actual[key]) for key in expected), name
    full, resumed_state = (torch.load(path / STATE_FILE, weights_only=True) for path in (final_full, final_resumed))
    assert full["step"] == resumed_state["step"] == 4 and full["data"] == resumed_state["data"]
    slots = zip(full["optimizers"]["tokenizer"]["state"].values(),
                resumed_state["optimizers"]["tokenizer"]["state"].values(), strict=True)
    assert all(torch.equal(a[key], b[key]) for a, b in slots for key in ("exp_avg", "exp_avg_sq"))
    assert "resume=" in (resumed / "command.txt").read_text() and (resumed / "config.yaml").is_file()


def test_run_directory_layout_and_periodic_evaluation(full_run: Path) -> None:
    checkpoints = full_run / "checkpoints"
    assert sorted(path.name for path in checkpoints.iterdir()) == ["latest", "step_00000003", "step_00000004"]
    assert (checkpoints / "latest").read_text().strip() == "step_00000004"
    assert sorted(path.name for path in (checkpoints / "step_00000004").iterdir()) == [
        "config.yaml", "ema.safetensors", "manifest.json", "model.safetensors", STATE_FILE]
    rows = read_csv(full_run / "train.csv")
    assert [row["step"] for row in rows] == ["2", "4"] and all(float(row["images_per_s"]) > 0 for row in rows)
    assert float(rows[0]["lr"]) == pytest.approx(0.75e-3)  # mean of warm-up steps 0, 1: (0.5 + 1.0)/2 · 1e-3
    evaluations = read_csv(full_run / "eval.csv")
    assert [row["step"] for row in evaluations] == ["2", "4"]
    assert all(float(row["psnr"]) > 0 and 0 < float(row["lpips_alex"]) for row in evaluations)
    assert "lpips_vgg" not in evaluations[0] and "fd_vgg16_pool5" not in evaluations[0]


def test_eval_tokenizer_reports_metrics_and_writes_a_grid(data, full_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    assert slq("eval-tokenizer", full_run, "--data", data["kodak"], "--crop", "64", "--out", out) == 0
    report = json.loads((out / "metrics.json").read_text())
    metrics = report["metrics"]
    assert report["step"] == 4 and report["quantizer"] == "e8" and report["codebook_size"] == 240
    assert metrics["bpp_fixed"] == pytest.approx(math.log2(240) / 64)  # one token per 8x8 pixels
    assert 0 < metrics["bpp_entropy"] <= metrics["bpp_fixed"]
    assert metrics["tokens"] == 2 * 8 * 8 and metrics["num_images"] == 2
    assert 0 < metrics["codebook_used_fraction"] <= 1 and 1 <= metrics["codebook_perplexity"] <= 240
    # 64 px is below MS-SSIM's 161 px; 2 images give fewer pool5 vectors than the 512 dimensions of FD-VGG16
    assert metrics["ms_ssim"] is None and metrics["fd_vgg16_pool5"] is None and report["warnings"]
    for key in ("psnr", "ssim", "lpips_alex", "lpips_vgg"):
        assert math.isfinite(metrics[key]), key
    per_image = read_csv(out / "per_image.csv")
    assert [row["name"] for row in per_image] == ["kodim01.png", "kodim02.png"]
    # PSNR recomputed from the EMA weights and the center crop
    tokenizer = eval_tokenizer.load_tokenizer(full_run / "checkpoints" / "step_00000004", "ema")
    from models.data import center_crop, load_image
    original = center_crop(load_image(data["kodak"] / "kodim01.png"), 64)[None]
    with torch.no_grad():
        reconstruction = tokenizer(original).reconstruction.clamp(0, 1)
    mse = (reconstruction.double() - original.double()).square().mean().item()
    assert float(per_image[0]["psnr"]) == pytest.approx(10 * math.log10(1 / mse), rel=1e-4)
    assert Image.open(out / "reconstructions.png").size == (2 * 64 + 4, 2 * 64 + 4)  # 2 rows of original | recon
    assert len(read_csv(out / "metrics.csv")) == 1


def test_eval_tokenizer_full_size_trims_to_the_patch_grid(full_run: Path, tmp_path: Path) -> None:
    images = tmp_path / "odd-sizes"
    images.mkdir()
    for name, (width, height) in {"a.png": (44, 36), "b.png": (40, 52)}.items():
        Image.new("RGB", (width, height), (120, 30, 200)).save(images / name)
    assert slq("eval-tokenizer", full_run, "--data", images, "--crop", "full", "--out", tmp_path / "out",
               "--weights", "model", "--lpips-nets", "alex", "--no-fd", "--save-images") == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"]
    assert metrics["tokens"] == 5 * 4 + 5 * 6  # 40x32 and 40x48 pixels after trimming
    # --save-images writes the trimmed references and their reconstructions, losslessly, under one name
    assert Image.open(tmp_path / "out" / "ref" / "a.png").size == (40, 32)
    assert Image.open(tmp_path / "out" / "recon" / "b.png").size == (40, 48)
    reference = np.asarray(Image.open(tmp_path / "out" / "ref" / "a.png"))
    assert (reference == np.array([120, 30, 200], dtype=np.uint8)).all()


def test_bad_inputs_fail_before_any_device_work(data, full_run: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    # device=cuda is unavailable here: reaching the device would raise a different error
    with pytest.raises(ValueError, match="no PNG/JPEG images found"):
        slq(*train_args(empty, tmp_path / "run", "--set", "train.device=cuda"))
    with pytest.raises(ValueError, match="another model or quantizer: model.quantizer: 'e8' != 'bsq'"):
        slq(*train_args(data["train"], tmp_path / "run", "--resume", full_run, "--set", "train.device=cuda",
                        "--set", "model.quantizer=bsq", "--set", "model.quantizer_kwargs.dim=8"))
    with pytest.raises(ValueError, match="changed training setup.*optim.lr"):
        slq(*train_args(data["train"], tmp_path / "run", "--resume", full_run, "--set", "optim.lr=0.5"))
    with pytest.raises(FileNotFoundError, match="neither a checkpoint directory"):
        slq(*train_args(data["train"], tmp_path / "run", "--resume", tmp_path))
    with pytest.raises(ValueError, match="unknown config key 'train.stepz'"):
        slq(*train_args(data["train"], tmp_path / "run", "--set", "train.stepz=3"))
    with pytest.raises(ValueError, match="no PNG/JPEG images found"):
        slq("eval-tokenizer", full_run, "--data", empty, "--device", "cuda")
    with pytest.raises(ValueError, match="not a multiple of the model's patch size 8"):
        slq("eval-tokenizer", full_run, "--data", data["kodak"], "--crop", "60")


def test_a_diverging_run_stops_with_a_clear_error(data, tmp_path: Path) -> None:
    """With the quantizer's and LPIPS's own NaN checks off, the logged loss is the last guard."""
    with pytest.raises(ValueError, match="training loss became nan in the 2 steps up to step 2"):
        slq(*train_args(data["train"], tmp_path, "--set", "optim.lr=1e30", "--set", "optim.warmup_steps=0",
                        "--set", "loss.lpips=0", "--set", "model.quantizer_kwargs.check_finite=false"))
    assert not (tmp_path / "checkpoints").exists()


def test_checkpoint_of_another_model_is_rejected_by_eval(full_run: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(full_run / "checkpoints" / "step_00000004", tampered)
    config = (tampered / "config.yaml").read_text()
    (tampered / "config.yaml").write_text(config.replace("width: 32", "width: 64", 1))
    with pytest.raises(ValueError, match=r"config\.yaml does not match its SHA-256"):
        eval_tokenizer.load_tokenizer(tampered, "ema")


DDP_SCRIPT = """
import argparse, sys
from experiments.tokenizer import train as train_tokenizer
parser = argparse.ArgumentParser()
train_tokenizer.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


@pytest.mark.slow
def test_two_process_ddp_on_cpu_matches_one_process(data, full_run: Path, tmp_path: Path) -> None:
    """torchrun with 2 gloo ranks, 2 images each: the same global batches, so the same losses up to rounding."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(DDP_SCRIPT))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script),
               *map(str, train_args(data["train"], tmp_path / "ddp"))]
    environment = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "world_size=2" in (tmp_path / "ddp" / "command.txt").read_text()
    rows = zip(read_csv(full_run / "train.csv"), read_csv(tmp_path / "ddp" / "train.csv"), strict=True)
    for single, distributed in rows:
        for key in ("loss", "l1", "lpips", "grad_norm", "lr"):
            assert float(distributed[key]) == pytest.approx(float(single[key]), rel=1e-5), key


def test_eval_tokenizer_checks_image_sizes_before_any_work(full_run: Path, tmp_path: Path, capsys) -> None:
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    Image.new("RGB", (6, 30), (10, 20, 30)).save(tiny / "thin.png")
    with pytest.raises(ValueError, match="1 image\\(s\\) are smaller than one 8x8 patch \\(thin.png\\)"):
        slq("eval-tokenizer", full_run, "--data", tiny, "--crop", "full", "--device", "cuda")
    Image.new("RGB", (40, 40), (10, 20, 30)).save(tiny / "thin.png")
    assert slq("eval-tokenizer", full_run, "--data", tiny, "--crop", "48", "--out", tmp_path / "out",
               "--lpips-nets", "alex", "--no-fd") == 0
    assert "1 image(s) have a side below --crop 48 and are upsampled" in capsys.readouterr().err
