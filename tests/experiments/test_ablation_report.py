"""`slq ablation-report`: table rows, merged metrics files, loss-curve PNG and clear errors."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from experiments.cli import main


def write_run(folder: Path, psnr: float, lpips_vgg: float | None, step_times: list[float]) -> None:
    folder.mkdir(parents=True)
    with (folder / "train.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "l1", "lpips", "loss", "step_time_s"])
        for k, step_time in enumerate(step_times, start=1):
            writer.writerow([50 * k, 0.3 / k, 0.6 / k, 0.4 / k, step_time])
    tokenizer_eval = {"quantizer": "leech24", "bits_per_token": 17.584, "metrics": {
        "psnr": psnr, "ssim": 0.5, "ms_ssim": 0.8, "lpips_alex": 0.4, "bpp_fixed": 0.2748,
        "codebook_used_fraction": 0.01, "codebook_perplexity": 150.0, "codebook_max_min_ratio": None}}
    (folder / "metrics.json").write_text(json.dumps(tokenizer_eval))
    image_eval = {"psnr": psnr + 1.0, "lpips_vgg": lpips_vgg, "fd_vgg16_pool5": 12.5, "per_image": []}
    (folder / "vgg.json").write_text(json.dumps(image_eval))


def test_report_merges_metrics_and_writes_table_and_curves(tmp_path: Path) -> None:
    write_run(tmp_path / "leech24", 21.5, 0.45, [0.5, 0.1, 0.3, 0.2])
    write_run(tmp_path / "bsq", 22.0, 0.40, [0.4, 0.09, 0.09])
    out = tmp_path / "report"
    assert main(["ablation-report", str(tmp_path / "leech24"), str(tmp_path / "bsq"),
                 "--metrics", "metrics.json,vgg.json", "--out", str(out)]) == 0
    rows = json.loads((out / "table.json").read_text())
    assert [row["run"] for row in rows] == ["leech24", "bsq"]
    leech = rows[0]
    assert leech["PSNR"] == 21.5  # the first file wins over the later one's 22.5
    assert leech["LPIPS-vgg"] == 0.45 and leech["FD-VGG16-pool5"] == 12.5  # only in the later file
    assert leech["bits/token"] == 17.584 and leech["steps"] == 200
    assert leech["median step s (logged)"] == pytest.approx(0.2)  # median of 0.1, 0.3, 0.2: warm-up 0.5 left out
    assert leech["max/min usage"] is None
    assert "| leech24 | 200 | 21.5 |" in (out / "table.md").read_text()
    assert len(list(csv.DictReader((out / "table.csv").open()))) == 2
    assert Image.open(out / "loss_curves.png").size[0] > 600


def test_missing_files_are_named(tmp_path: Path, capsys) -> None:
    write_run(tmp_path / "run", 20.0, None, [0.1])
    assert main(["ablation-report", str(tmp_path / "run"), "--metrics", "absent.json",
                 "--out", str(tmp_path / "out")]) == 2
    assert "absent.json does not exist" in capsys.readouterr().err
    (tmp_path / "run" / "train.csv").unlink()
    assert main(["ablation-report", str(tmp_path / "run"), "--out", str(tmp_path / "out")]) == 2
    assert "needs the run's train.csv" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["{", "[1, 2]"])
def test_unreadable_metrics_files_are_named(tmp_path: Path, capsys, text: str) -> None:
    write_run(tmp_path / "run", 20.0, None, [0.1])
    (tmp_path / "run" / "bad.json").write_text(text)
    assert main(["ablation-report", str(tmp_path / "run"), "--metrics", "bad.json",
                 "--out", str(tmp_path / "out")]) == 2
    assert "bad.json is not a JSON object" in capsys.readouterr().err
