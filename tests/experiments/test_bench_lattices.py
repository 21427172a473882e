"""`slq bench-lattices` on a small run: strict results.json/results.csv with every step timed."""
from __future__ import annotations

import csv
import json
import math

import pytest

from experiments.bench import lattices as bench_lattices
from experiments.cli import main

FAST_STEPS = ["leech_minimal_vectors_from_scratch", "e8_roots_and_second_shell", "leech_theta_4_shells",
              "e8_theta_4_shells", "leech_file_match_float32"]


def _reject_constant(name: str):
    raise ValueError(f"non-strict JSON constant {name}")


def test_writes_strict_results_for_each_step(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_lattices, "ALL_PAIRS_CODEBOOKS", ("bsq-6",))  # 64 points instead of 196,560
    assert main(["bench-lattices", "--repeats", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "results.json").read_text(), parse_constant=_reject_constant)
    assert {"command", "machine", "cpus", "date"} <= report["meta"].keys()
    rows = report["results"]
    assert [row["step"] for row in rows] == FAST_STEPS + ["build", "all_pairs_statistics"]
    assert all(set(row) == set(bench_lattices.FIELDS) for row in rows)
    assert all(row["seconds"] > 0 and row["cpu_seconds"] >= 0 for row in rows)
    assert [row["timed_calls"] for row in rows] == [1] * 7
    pairs = rows[-1]
    assert pairs["codebook"] == "bsq-6" and pairs["exact"] is True
    assert pairs["delta_min"] == pytest.approx(2 / math.sqrt(6))  # neighbours differ in one sign of ±1/√6
    assert pairs["neighbours_mean"] == 6
    with open(tmp_path / "results.csv", newline="") as handle:
        assert [row["step"] for row in csv.DictReader(handle)] == [row["step"] for row in rows]


def test_rejects_zero_repeats(capsys):
    assert main(["bench-lattices", "--repeats", "0"]) == 2
    assert "--repeats" in capsys.readouterr().err
