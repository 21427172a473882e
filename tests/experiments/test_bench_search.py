"""`slq bench-search` on a few CPU tokens: JSON and CSV outputs, exact agreement with float64."""
from __future__ import annotations

import csv
import json

import pytest

from experiments.cli import main


def test_bench_search_writes_results(tmp_path):
    code = main(["bench-search", "--tokens", "96", "--reference-tokens", "96", "--repeats", "1",
                 "--out", str(tmp_path)])
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text())
    methods = {row["method"]: row for row in results["results"]}
    assert set(methods) == {"structured (numba)", "tiled dense fp32"}
    assert methods["structured (numba)"]["agreement_fp64"] == 1.0
    assert methods["tiled dense fp32"]["speedup_vs_tiled"] == 1.0
    assert all(row["seconds"] > 0 and row["tokens_per_second"] > 0 for row in methods.values())
    assert results["meta"]["machine"]
    with open(tmp_path / "results.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 2


@pytest.mark.parametrize("flag", ["--tokens", "--repeats", "--reference-tokens"])
def test_bench_search_rejects_non_positive_counts(flag, capsys):
    assert main(["bench-search", flag, "0"]) == 2
    assert flag in capsys.readouterr().err
