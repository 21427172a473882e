"""What the `slq bench-*` commands share: one timer (`time_calls`), run metadata and one results writer (`report`)."""
from __future__ import annotations

import contextlib
import datetime
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.results_io import strict_json, write_csv, write_json


def command_line() -> str:
    """The `slq ...` command line of this process, shell-quoted."""
    return "slq " + " ".join(shlex.quote(argument) for argument in sys.argv[1:])


def machine() -> str:
    """The CPU model name from /proc/cpuinfo, else what `platform` knows of the processor."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def local_timestamp() -> str:
    """The current local time, ISO 8601 with UTC offset, to the second."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def report(meta: dict, rows: list[dict], fields: Sequence[str], out: Path | None) -> None:
    """Print `meta` as JSON; with `out`, also write results.json (meta + rows) and results.csv (rows)."""
    print(strict_json(meta))
    if out is None:
        return
    write_json(out / "results.json", {"meta": meta, "results": rows})
    write_csv(out / "results.csv", rows, fields)


@dataclass(frozen=True)
class Timing:
    """Wall-clock and process-CPU seconds (all threads) of each timed call, in call order, and the
    result of the last call."""

    seconds: list[float]
    cpu_seconds: list[float]
    result: Any = None

    @property
    def best(self) -> float:
        """Wall seconds of the fastest call (the least disturbed by other load)."""
        return min(self.seconds)

    @property
    def median(self) -> float:
        """Median wall seconds of the calls."""
        return statistics.median(self.seconds)

    @property
    def best_cpu_seconds(self) -> float:
        """Process CPU seconds of the fastest call."""
        return self.cpu_seconds[self.seconds.index(self.best)]


def time_calls(function: Callable[[], Any], repeats: int, *, warmup: int = 1,
               synchronize: Callable[[], object] | None = None,
               around: Callable[[], contextlib.AbstractContextManager] | None = None) -> Timing:
    """Time `repeats` calls of `function()` after `warmup` untimed calls: the one timer of `slq bench-*`.

    Pass warmup=0 when the caller warms up itself (e.g. on a smaller input). `synchronize` (e.g.
    `cuda_synchronizer(device)`) runs once before the first timed call and after each timed call,
    inside the clock, so that asynchronous device work is counted. `around` makes a context
    manager entered around each timed call outside the clock (e.g. `CudaPeakMemory.track`).
    Example: `time_calls(lambda: search(z), 5).best` is the fastest of five calls in seconds."""
    return time_round_robin({"": function}, repeats, warmup=warmup, synchronize=synchronize,
                            around=around)[""]


def time_round_robin(functions: Mapping[str, Callable[[], Any]], repeats: int, *, warmup: int = 1,
                     synchronize: Callable[[], object] | None = None,
                     around: Callable[[], contextlib.AbstractContextManager] | None = None) -> dict[str, Timing]:
    """`time_calls` of several functions interleaved: each round calls every function once, the
    order rotating by one each round, so that a drift of the machine's speed affects all alike.
    The warm-up calls (`warmup` rounds in the given order) all come first."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    if not functions:
        raise ValueError("no functions to time")
    synchronize = synchronize or (lambda: None)
    around = around or contextlib.nullcontext
    for _ in range(warmup):
        for function in functions.values():
            function()
    synchronize()
    names = list(functions)
    seconds = {name: [] for name in names}
    cpu_seconds = {name: [] for name in names}
    results = dict.fromkeys(names)
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            with around():
                start, start_cpu = time.perf_counter(), time.process_time()
                results[name] = functions[name]()
                synchronize()
                seconds[name].append(time.perf_counter() - start)
                cpu_seconds[name].append(time.process_time() - start_cpu)
    return {name: Timing(seconds[name], cpu_seconds[name], results[name]) for name in names}


def cuda_synchronizer(device) -> Callable[[], None] | None:
    """`torch.cuda.synchronize` for `device` when it is a CUDA device, else None (nothing to wait for)."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return None
    return lambda: torch.cuda.synchronize(device)


class CudaPeakMemory:
    """The largest peak of extra CUDA memory over timed calls, in bytes (-1 before any call):
    `torch.cuda.max_memory_allocated` during a call less `memory_allocated` before it. Pass
    `around=peak.track` to `time_calls`."""

    def __init__(self, device) -> None:
        self.device = device
        self.peak_bytes = -1

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        """Measure the peak of one call (the `with` body)."""
        import torch

        torch.cuda.reset_peak_memory_stats(self.device)
        before = torch.cuda.memory_allocated(self.device)
        yield
        self.peak_bytes = max(self.peak_bytes, torch.cuda.max_memory_allocated(self.device) - before)
