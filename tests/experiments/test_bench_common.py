"""The shared timer of the `slq bench-*` commands: call counts, synchronisation, interleaving, wall vs CPU time."""
from __future__ import annotations

import contextlib
import time

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.bench.common import CudaPeakMemory, Timing, cuda_synchronizer, time_calls, time_round_robin


@settings(max_examples=30, deadline=None)
@given(repeats=st.integers(1, 6), warmup=st.integers(0, 3))
def test_calls_warmup_plus_repeats_times_and_returns_one_time_per_timed_call(repeats, warmup):
    calls = []
    timing = time_calls(lambda: calls.append(len(calls)) or len(calls), repeats, warmup=warmup)
    assert len(calls) == warmup + repeats
    assert len(timing.seconds) == len(timing.cpu_seconds) == repeats
    assert all(isinstance(value, float) and value >= 0 for value in timing.seconds + timing.cpu_seconds)
    assert timing.result == warmup + repeats  # the last call's return value


def test_synchronize_runs_after_the_warmup_and_inside_the_clock_after_each_timed_call():
    events = []

    @contextlib.contextmanager
    def around():
        events.append("enter")
        yield
        events.append("exit")

    time_calls(lambda: events.append("call"), 2, warmup=1, synchronize=lambda: events.append("sync"),
               around=around)
    assert events == ["call", "sync", "enter", "call", "sync", "exit", "enter", "call", "sync", "exit"]


def test_synchronize_is_timed():
    timing = time_calls(lambda: None, 1, warmup=0, synchronize=lambda: time.sleep(0.02))
    assert timing.seconds[0] >= 0.02


def test_wall_and_cpu_seconds_differ_for_a_sleeping_call():
    timing = time_calls(lambda: time.sleep(0.05), 2, warmup=0)
    assert min(timing.seconds) >= 0.05
    assert max(timing.cpu_seconds) < 0.04


def test_round_robin_rotates_the_order_each_round_after_all_warmups():
    calls = []
    steps = {name: (lambda name=name: calls.append(name)) for name in ("a", "b", "c")}
    timings = time_round_robin(steps, 3, synchronize=lambda: calls.append("sync"))
    assert calls[:4] == ["a", "b", "c", "sync"]  # warm-ups, then one synchronisation before timing
    assert [name for name in calls[4:] if name != "sync"] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert calls[4:].count("sync") == 9
    assert set(timings) == {"a", "b", "c"}
    assert all(len(timing.seconds) == len(timing.cpu_seconds) == 3 for timing in timings.values())


def test_summaries_of_a_timing():
    timing = Timing(seconds=[0.3, 0.1, 0.2, 0.4], cpu_seconds=[0.6, 0.15, 0.1, 0.8])
    assert timing.best == 0.1
    assert timing.median == pytest.approx(0.25)
    assert timing.best_cpu_seconds == 0.15  # the CPU time of the fastest call, not the least CPU time


@pytest.mark.parametrize(("repeats", "warmup", "functions"), [(0, 1, {"a": print}), (1, -1, {"a": print}),
                                                               (1, 1, {})])
def test_rejects_no_timed_calls_negative_warmup_and_no_functions(repeats, warmup, functions):
    with pytest.raises(ValueError):
        time_round_robin(functions, repeats, warmup=warmup)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_peak_memory_counts_what_a_timed_call_allocates():
    peak = CudaPeakMemory("cuda")
    kept = time_calls(lambda: torch.empty(2**20, dtype=torch.uint8, device="cuda"), 2, warmup=0,
                      synchronize=cuda_synchronizer("cuda"), around=peak.track).result
    assert kept.numel() == 2**20
    assert peak.peak_bytes >= 2**20


def test_no_synchronizer_for_the_cpu():
    assert cuda_synchronizer("cpu") is None
