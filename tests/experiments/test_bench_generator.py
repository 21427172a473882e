"""`slq bench-generator` on a tiny CPU model: both loss paths, both sampling variants, JSON and CSV outputs."""
from __future__ import annotations

import csv
import json

import pytest

from experiments.cli import main

TINY = ["bench-generator", "--batch", "2", "--scales", "1,2", "--width", "16", "--depth", "1", "--heads", "2",
        "--sample-batch", "2", "--repeats", "1"]


def test_bench_generator_writes_results(tmp_path) -> None:
    assert main(TINY + ["--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    rows = {(row["measurement"], row["variant"]): row for row in results["results"]}
    variants = ("fused", "fused, gradients in forward", "naive")
    assert set(rows) == {(measurement, variant) for measurement in ("head loss path", "training step")
                         for variant in variants} | {("sampling", "kv cache"), ("sampling", "recompute")}
    assert rows[("training step", "naive")]["ratio_to_baseline"] == 1.0
    assert rows[("sampling", "kv cache")]["note"] == "indices equal across variants: True"
    for variant in variants[:2]:
        fused_loss, naive_loss = (float(part) for part in
                                  rows[("head loss path", variant)]["note"].removeprefix("loss ").split(" vs naive "))
        assert fused_loss == pytest.approx(naive_loss, rel=1e-5)
    assert all(row["vocab"] == 196_560 and row["tokens_per_image"] == 5 for row in rows.values())
    assert rows[("head loss path", "fused")]["peak_extra_bytes"] is None  # CPU: no peak counter
    with open(tmp_path / "results.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 8


@pytest.mark.parametrize("arguments", [["--batch", "0"], ["--width", "30", "--heads", "4"], ["--cfg", "-1"]])
def test_bench_generator_rejects_bad_arguments(arguments, capsys) -> None:
    assert main(TINY + arguments) == 2
    assert "bench-generator: error" in capsys.readouterr().err
