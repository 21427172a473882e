"""Test of `slq bench-decoders` on a small run: all decoders agree with their baselines."""
import argparse
import csv
import json

import pytest

from experiments.bench import decoders as bench_decoders


def _run(argv: list[str]) -> int:
    """Parse with a parser holding only this subcommand (other subcommands are not needed)."""
    parser = argparse.ArgumentParser()
    bench_decoders.register(parser.add_subparsers())
    args = parser.parse_args(["bench-decoders"] + argv)
    return args.func(args)


def test_bench_decoders_writes_json_and_csv_with_full_agreement(tmp_path):
    code = _run(["--points", "3000", "--baseline-points", "8", "--repeats", "1",
                 "--out", str(tmp_path)])
    assert code == 0
    report = json.loads((tmp_path / "results.json").read_text())
    assert {"command", "machine", "date"} <= report["meta"].keys()
    rows = report["results"]
    assert [row["decoder"] for row in rows] == ["e8.nearest_point", "e8.nearest_root",
                                                "leech.nearest_point"]
    assert all(row["agreement"] == 1.0 and row["points_per_second"] > 0 for row in rows)
    assert [row["baseline_points"] for row in rows] == [3000, 3000, 8]
    with open(tmp_path / "results.csv", newline="") as handle:
        assert [row["decoder"] for row in csv.DictReader(handle)] == [row["decoder"] for row in rows]


def test_bench_decoders_rejects_a_non_positive_point_count():
    with pytest.raises(ValueError, match="--points must be at least 1"):
        _run(["--points", "0"])
