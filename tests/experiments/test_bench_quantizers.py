"""`slq bench-quantizers` on a few CPU tokens: best and median times and the ratios to bsq."""
from __future__ import annotations

import json

from experiments.cli import main


def test_command_writes_times_and_ratios_to_bsq(tmp_path):
    assert main(["bench-quantizers", "--device", "cpu", "--tokens", "64", "--repeats", "2",
                 "--quantizers", "leech24", "bsq", "--out", str(tmp_path)]) == 0
    rows = {row["quantizer"]: row for row in json.loads((tmp_path / "results.json").read_text())["results"]}
    assert set(rows) == {"leech24", "bsq"}
    for row in rows.values():
        assert 0 < row["best_seconds"] <= row["median_seconds"]
        assert row["cpu_seconds"] >= 0 and row["tokens_per_second"] > 0
    assert rows["bsq"]["ratio_to_bsq"] == 1.0
    assert rows["leech24"]["ratio_to_bsq"] == round(rows["leech24"]["best_seconds"] / rows["bsq"]["best_seconds"], 3)
