"""`slq eval` end to end through experiments.cli.main on three small image pairs."""
import csv
import json

import pytest
import torch

import experiments.cli as cli
from models.data import load_image, save_image
from models.metrics import LpipsDistance, psnr, ssim


@pytest.fixture
def slq():
    """The `slq` entry point."""
    return cli.main


@pytest.fixture
def folders(tmp_path):
    recon_dir, ref_dir = tmp_path / "recon", tmp_path / "ref"
    generator = torch.Generator().manual_seed(0)
    for index, name in enumerate(["cat", "dog", "sub/owl"]):
        reference = torch.rand(3, 40, 48 + 8 * index, generator=generator)
        save_image(reference, ref_dir / f"{name}.png")
        save_image((reference + 0.05 * torch.randn(reference.shape, generator=generator)).clamp(0, 1),
                   recon_dir / f"{name}.jpg" if name == "dog" else recon_dir / f"{name}.png")
    return recon_dir, ref_dir


def test_eval_writes_json_csv_and_grid(slq, folders, tmp_path, capsys):
    recon_dir, ref_dir = folders
    out = tmp_path / "out"
    code = slq(["eval", "--recon", str(recon_dir), "--ref", str(ref_dir), "--json", str(out / "m.json"),
                "--csv", str(out / "m.csv"), "--grid", str(out / "grid.png")])
    assert code == 0
    captured = capsys.readouterr()
    assert "mean" in captured.out and "FD-VGG16-pool5" in captured.out
    assert "warning: ms_ssim is null" in captured.err
    results = json.loads((out / "m.json").read_text())
    assert {"psnr", "ssim", "ms_ssim", "lpips_alex", "lpips_vgg", "per_image", "fd_vgg16_pool5"} <= results.keys()
    assert results["ms_ssim"] is None and results["fd_vgg16_pool5"] is None
    assert [row["name"] for row in results["per_image"]] == ["cat", "dog", "sub/owl"]
    owl = results["per_image"][2]
    recon, reference = load_image(recon_dir / "sub/owl.png")[None], load_image(ref_dir / "sub/owl.png")[None]
    assert owl["psnr"] == pytest.approx(psnr(recon, reference).item(), abs=1e-5)
    assert owl["ssim"] == pytest.approx(ssim(recon, reference).item(), abs=1e-5)
    assert owl["lpips_vgg"] == pytest.approx(LpipsDistance("vgg")(recon, reference).item(), abs=1e-5)
    assert results["psnr"] == pytest.approx(sum(row["psnr"] for row in results["per_image"]) / 3)
    with (out / "m.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["name"] for row in rows] == ["cat", "dog", "sub/owl", "mean"]
    assert float(rows[-1]["lpips_alex"]) == pytest.approx(results["lpips_alex"])
    grid = load_image(out / "grid.png")
    assert grid.shape[1] == 3 * 256 + 2 * 4  # three rows of reference | reconstruction


def test_eval_bad_input_exits_with_a_clear_message(slq, folders, tmp_path, capsys):
    recon_dir, ref_dir = folders
    base = ["eval", "--recon", str(recon_dir), "--ref", str(ref_dir), "--no-fd", "--lpips-nets", "alex"]
    save_image(torch.rand(3, 40, 48), recon_dir / "extra.png")
    assert slq(base) == 2
    assert "1 reconstruction(s) without a reference (extra)" in capsys.readouterr().err
    (recon_dir / "extra.png").unlink()
    assert slq([*base, "--inception-weights", str(tmp_path / "absent.pth")]) == 2
    assert "Inception weights file" in capsys.readouterr().err
    save_image(torch.rand(3, 32, 32), recon_dir / "cat.png")
    assert slq(base) == 2
    assert "reconstructions must have their reference's size" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert slq(["eval", "--recon", str(empty), "--ref", str(ref_dir)]) == 2
    assert "no PNG/JPEG images found" in capsys.readouterr().err
