"""Scalar metrics of a run: one CSV file per stream (fixed columns), mirrored to TensorBoard when it is installed."""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path


class CsvLog:
    """Append rows {step, ...} to a CSV file whose columns are fixed by the first row.

    Opening an existing file with `resume_step` keeps only its rows with step <= resume_step, so that a
    resumed run does not repeat the steps an interrupted run logged after its last checkpoint; the
    shortened file replaces the old one atomically (a kill at that moment leaves one or the other).
    """

    def __init__(self, path: Path, resume_step: int | None = None) -> None:
        self.path = Path(path)
        self.columns: list[str] | None = None
        if self.path.is_file() and resume_step is not None:
            try:
                with self.path.open(newline="") as handle:
                    reader = csv.DictReader(handle)
                    self.columns = list(reader.fieldnames or []) or None
                    rows = [row for row in reader if int(row["step"]) <= resume_step]
            except (KeyError, TypeError, ValueError, UnicodeDecodeError, csv.Error) as error:
                raise ValueError(f"metrics log {self.path} is not a CSV file with a numeric 'step' column "
                                 f"({type(error).__name__}: {error}); move it away to resume") from error
            self._rewrite(rows)
        elif self.path.exists():
            self.path.unlink()

    def _rewrite(self, rows: list[dict[str, str]]) -> None:
        if self.columns is None:
            self.path.unlink()
            return
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def write(self, step: int, values: dict[str, float]) -> None:
        row = {"step": step, **values}
        if self.columns is None:
            self.columns = list(row)
            with self.path.open("w", newline="") as handle:
                csv.DictWriter(handle, fieldnames=self.columns).writeheader()
        if list(row) != self.columns:
            raise ValueError(f"{self.path}: row keys {list(row)} differ from the columns {self.columns}")
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.columns).writerow(row)


class MetricsLog:
    """CSV streams in a run directory (train.csv, eval.csv, ...) plus TensorBoard event files if available."""

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.resume_step = resume_step
        self.streams: dict[str, CsvLog] = {}
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self.tensorboard = None
        else:
            self.tensorboard = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=resume_step)

    def write(self, stream: str, step: int, values: dict[str, float]) -> None:
        if stream not in self.streams:
            self.streams[stream] = CsvLog(self.run_dir / f"{stream}.csv", self.resume_step)
        self.streams[stream].write(step, values)
        if self.tensorboard is not None:
            for name, value in values.items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self.tensorboard.add_scalar(f"{stream}/{name}", value, step)

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
