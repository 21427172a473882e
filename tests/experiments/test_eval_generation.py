"""`slq eval-generation` on a small synthetic Fashion-MNIST folder: strict JSON, CSV, one-line errors."""
import csv
import json
import re

import numpy as np
import pytest

from experiments.cli import main
from models.metrics.fmnist_generation import MIN_SAMPLES
from tests.fmnist_synthetic import striped_images, write_synthetic_fashion_mnist

KEYS = {"fd_fmnist", "class_accuracy", "precision", "recall", "cas", "num_samples", "classifier_sha256", "settings"}


@pytest.fixture(scope="module")
def real_dir(tmp_path_factory):
    return write_synthetic_fashion_mnist(tmp_path_factory.mktemp("fashion-mnist"))


def _samples(path, count=250, **overrides):
    labels = np.arange(count, dtype=np.int64) % 10
    arrays = {"images": np.pad(striped_images(labels, 3), ((0, 0), (2, 2), (2, 2))), "labels": labels}
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def test_cli_writes_strict_json_and_csv_with_the_metrics(tmp_path, real_dir):
    out_json, out_csv = tmp_path / "scores.json", tmp_path / "scores.csv"
    argv = ["eval-generation", str(_samples(tmp_path / "samples.npz")), "--real", str(real_dir),
            "--json", str(out_json), "--csv", str(out_csv), "--min-samples", "200"]
    assert main(argv) == 0
    document = json.loads(out_json.read_text(), parse_constant=lambda name: pytest.fail(f"non-strict {name}"))
    assert KEYS <= document.keys() and document["num_samples"] == 250
    assert document["settings"]["precision_recall_real_samples"] == 250
    for key in ("class_accuracy", "precision", "recall", "cas"):
        assert 0.0 <= document[key] <= 1.0
    assert document["fd_fmnist"] >= 0.0 and len(document["classifier_sha256"]) == 64
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 1 and float(rows[0]["fd_fmnist"]) == pytest.approx(document["fd_fmnist"])
    assert main([*argv, "--no-cas"]) == 0
    assert json.loads(out_json.read_text())["cas"] is None


def test_the_default_minimum_is_ten_thousand_samples(tmp_path, real_dir, capsys):
    argv = ["eval-generation", str(_samples(tmp_path / "few.npz")), "--real", str(real_dir),
            "--json", str(tmp_path / "out.json")]
    assert MIN_SAMPLES == 10_000 and main(argv) == 2
    assert "at least 10000" in capsys.readouterr().err


@pytest.mark.parametrize("overrides, message", [
    ({"images": np.zeros((250, 30, 30), np.uint8)}, "28x28 or 32x32"),
    ({"images": np.zeros((250, 2, 28, 28), np.uint8)}, "1 or 3 channels"),
    ({"images": np.full((250, 28, 28), np.nan, np.float32)}, "NaN"),
    ({"labels": np.full(250, 10, np.int64)}, "labels must lie in 0-9"),
    ({"labels": np.zeros(249, np.int64)}, r"labels must have shape \(250,\)"),
    ({"labels": None}, "lacks the array"),
])
def test_bad_samples_give_a_one_line_error(tmp_path, real_dir, capsys, overrides, message):
    argv = ["eval-generation", str(_samples(tmp_path / "bad.npz", **overrides)), "--real", str(real_dir),
            "--json", str(tmp_path / "out.json"), "--min-samples", "200"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("slq eval-generation: error:")
    assert re.search(message, error) and not (tmp_path / "out.json").exists()


def test_unreadable_files_give_a_one_line_error(tmp_path, real_dir, capsys):
    (tmp_path / "garbage.npz").write_bytes(b"not a zip archive")
    weights = tmp_path / "unrecorded.safetensors"
    weights.write_bytes(b"{}")
    cases = [
        ([str(tmp_path / "garbage.npz")], "not a readable npz file"),
        ([str(tmp_path / "absent.npz")], "does not exist"),
        ([str(_samples(tmp_path / "ok.npz")), "--classifier", str(weights)], "no sha256 file"),
    ]
    for arguments, message in cases:
        argv = ["eval-generation", *arguments, "--real", str(real_dir), "--json", str(tmp_path / "o.json"),
                "--min-samples", "200"]
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and message in error
