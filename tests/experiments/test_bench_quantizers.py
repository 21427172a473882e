"""`slq bench-quantizers`: interleaved timing of the quantizers' steps and the command's output."""
from __future__ import annotations

import json

from experiments.bench import quantizers as bench_quantizers
from experiments.cli import main


def test_steps_are_timed_round_robin_with_a_rotating_order():
    calls = []
    steps = {name: (lambda name=name: calls.append(name)) for name in ("a", "b", "c")}
    times = bench_quantizers._time_steps(steps, lambda: calls.append("sync"), repeats=3)
    assert calls[:4] == ["a", "b", "c", "sync"]  # warm-up, then one synchronisation per timed step
    timed = [name for name in calls[4:] if name != "sync"]
    assert timed == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert calls[4:].count("sync") == 9
    assert all(len(wall) == len(cpu) == 3 for wall, cpu in times.values())


def test_command_writes_ratios_to_bsq(tmp_path):
    assert main(["bench-quantizers", "--device", "cpu", "--tokens", "64", "--repeats", "2",
                 "--quantizers", "leech24", "bsq", "--out", str(tmp_path)]) == 0
    rows = {row["quantizer"]: row for row in json.loads((tmp_path / "results.json").read_text())["results"]}
    assert set(rows) == {"leech24", "bsq"}
    assert rows["bsq"]["ratio_to_bsq"] == 1.0
    assert rows["leech24"]["ratio_to_bsq"] == round(rows["leech24"]["best_seconds"] / rows["bsq"]["best_seconds"], 3)
