"""Shared run metadata and results.json/results.csv output of the `slq bench-*` commands."""
from __future__ import annotations

import datetime
import platform
import shlex
import sys
from pathlib import Path
from typing import Sequence

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
