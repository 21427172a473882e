"""`slq posthoc-geometry` end to end on CPU: a 2-step continuous tiny tokenizer, its latents quantized by each code."""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import quantizers
from experiments import cli
from experiments.reports import posthoc_geometry
from experiments.tokenizer import evaluate as eval_tokenizer
from experiments.tokenizer import train as train_tokenizer
from experiments.reports.latent_codes import LatentCode, orthogonal_projection, parse_code_spec
from models.data import ImageFolderDataset

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny-cpu.yaml"
CODES = ["leech24", "e8x3=e8:{dim: 24}", "rand=random:{codebook_size: 500, dim: 24, seed: 1}",
         "bsq18=bsq:{dim: 18}", "fsq=fsq:{levels: [8, 8, 8, 8, 8, 6]}", "e8-roots=e8"]


def slq(*argv) -> int:
    parser = argparse.ArgumentParser(prog="slq")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (train_tokenizer, posthoc_geometry):
        module.register(subparsers)
    args = parser.parse_args([str(arg) for arg in argv])
    return args.func(args)


def write_images(folder: Path, count: int, seed: int) -> Path:
    """Smooth random colour fields (48 × 40 px), so that crops and tokens differ."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        coarse = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((40, 48), Image.BILINEAR).save(folder / f"{index:02d}.png")
    return folder


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("posthoc")
    train, evaluation = write_images(root / "train", 4, seed=0), write_images(root / "eval", 3, seed=1)
    run_dir = root / "run"
    assert slq("train-tokenizer", "--config", TINY, "--set", f"data.train_dir={train}",
               "--set", f"train.run_dir={run_dir}", "--set", "train.steps=2", "--set", "model.latent_dim=24",
               "--set", "model.quantizer=identity", "--set", "model.quantizer_kwargs={dim: 24}") == 0
    out = root / "report"
    assert slq("posthoc-geometry", run_dir, "--data", evaluation, "--crop", 32, "--out", out,
               "--codes", *CODES, "--lpips-nets", "alex", "--batch-size", 2, "--device", "cpu") == 0
    document = json.loads((out / "posthoc.json").read_text(),
                          parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))
    return {"run_dir": run_dir, "eval": evaluation, "out": out, "document": document,
            "rows": {row["code"]: row for row in document["rows"]}}


def test_report_has_one_row_per_code_after_the_continuous_reference(report):
    rows = report["rows"]
    assert list(rows) == ["continuous", "leech24", "e8x3", "rand", "bsq18", "fsq", "e8-roots"]
    assert rows["continuous"]["latent_mse"] == 0.0 and rows["continuous"]["latent_angle_deg"] < 0.1
    assert rows["continuous"]["codes_used"] is None and rows["continuous"]["bits"] is None
    assert rows["leech24"]["bits"] == pytest.approx(math.log2(196_560))
    assert rows["bsq18"]["bits"] == 18 and rows["e8x3"]["codebook_size"] == 240**3
    assert [rows[label]["projected"] for label in rows] == [False, False, False, False, True, True, True]
    tokens = 3 * (32 // 8) ** 2
    for label in list(rows)[1:]:
        row = rows[label]
        assert row["tokens"] == tokens and 1 <= row["codes_used"] <= tokens
        assert row["latent_mse"] > 0 and 0 < row["latent_angle_deg"] < 90
        assert math.isfinite(row["psnr"]) and 0 < row["lpips_alex"] and -1 <= row["ssim"] <= 1
    with (report["out"] / "posthoc.csv").open(newline="") as handle:
        assert [row["code"] for row in csv.DictReader(handle)] == list(rows)
    assert (report["out"] / "posthoc.png").stat().st_size > 10_000


def encoded_latents(report) -> torch.Tensor:
    tokenizer = eval_tokenizer.load_tokenizer(report["run_dir"] / "checkpoints" / "step_00000002", "ema")
    images = torch.stack(list(ImageFolderDataset(report["eval"], train=False, crop_size=32)))
    with torch.no_grad():
        return tokenizer.encode(images)[0].reshape(-1, 24).double()


def mean_angle_to_nearest(u_ND: torch.Tensor, codebook_KD: torch.Tensor) -> float:
    cosine_N = (u_ND @ codebook_KD.T).max(dim=1).values.clamp(-1, 1)
    return float(torch.rad2deg(torch.arccos(cosine_N)).mean())


def test_latent_angles_equal_a_brute_force_nearest_codeword_search(report):
    u_ND = encoded_latents(report)
    leech = quantizers.build("leech24").codebook.double()
    assert report["rows"]["leech24"]["latent_angle_deg"] == pytest.approx(mean_angle_to_nearest(u_ND, leech), abs=1e-3)
    # BSQ through the projection is the nearest point of the 2^18 unit vectors Pᵀs/√18 embedded in 24-D
    projection_dD = orthogonal_projection(18, 24).double()
    signs_Kd = quantizers.build("bsq", dim=18).indices_to_codes(torch.arange(2**18)).double()
    embedded_KD = signs_Kd @ projection_dD
    assert report["rows"]["bsq18"]["latent_angle_deg"] == pytest.approx(
        mean_angle_to_nearest(u_ND, embedded_KD), abs=1e-3)


def test_code_specs_and_projection():
    assert parse_code_spec("e8x3=e8:{dim: 24}").options == {"dim": 24}
    spec = parse_code_spec("fsq:{levels: [4, 4]}")
    assert (spec.label, spec.name, spec.options) == ("fsq:{levels: [4, 4]}", "fsq", {"levels": [4, 4]})
    assert parse_code_spec("leech24").options == {}
    for bad, message in (("nope", "unknown quantizer"), ("e8:[8]", "mapping"), ("e8:{dim: [", "YAML"),
                         ("=e8", "LABEL")):
        with pytest.raises(ValueError, match=message):
            parse_code_spec(bad)
    projection_dD = orthogonal_projection(7, 24)
    torch.testing.assert_close(projection_dD @ projection_dD.T, torch.eye(7), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="dimension 24 cannot quantize 16-D"):
        LatentCode(quantizers.build("leech24"), 16)


def test_cli_reports_bad_input_in_one_line(report, capsys):
    assert cli.main(["posthoc-geometry", str(report["run_dir"]), "--data", str(report["eval"]), "--out",
                     str(report["out"] / "bad"), "--codes", "x=leech24", "x=e8:{dim: 24}"]) == 2
    assert "labels must be distinct" in capsys.readouterr().err
    assert cli.main(["posthoc-geometry", str(report["run_dir"]), "--data", str(report["eval"]), "--out",
                     str(report["out"] / "bad"), "--crop", "30"]) == 2
    assert "not a multiple of the model's patch size" in capsys.readouterr().err
