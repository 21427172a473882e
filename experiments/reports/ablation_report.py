"""`slq ablation-report`: one table, CSV/JSON and loss-curve PNG from several tokenizer runs."""
from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

from experiments.results_io import write_csv, write_json

# (column, metrics key) in the order of the table; keys come from `slq eval-tokenizer` / `slq eval` JSON.
TABLE_COLUMNS = (
    ("PSNR", "psnr"), ("SSIM", "ssim"), ("MS-SSIM", "ms_ssim"), ("LPIPS-alex", "lpips_alex"),
    ("LPIPS-vgg", "lpips_vgg"), ("FD-VGG16-pool5", "fd_vgg16_pool5"), ("bits/token", "bits_per_token"),
    ("bpp", "bpp_fixed"), ("used", "codebook_used_fraction"), ("perplexity", "codebook_perplexity"),
    ("max/min usage", "codebook_max_min_ratio"),
)
CURVES = ("l1", "lpips")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ablation-report",
        help="table, CSV/JSON and loss curves (PNG) from several tokenizer runs",
        description="Each RUN folder holds the run's train.csv and one or more metrics JSON files "
        "(`slq eval-tokenizer` metrics.json, optionally merged with `slq eval` JSON for the same "
        "images): the file METRICS in each RUN supplies the table row. Writes table.csv, table.json, "
        "table.md and loss_curves.png to --out.",
    )
    parser.add_argument("runs", nargs="+", type=Path, help="run folders; the folder name labels the row")
    parser.add_argument("--metrics", default="metrics.json",
                        help="metrics file names inside each run folder, comma-separated; later files "
                        "add keys the earlier ones lack (default metrics.json)")
    parser.add_argument("--skip-steps", type=int, default=1,
                        help="logged windows left out of the median step time (warm-up; default 1)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.set_defaults(func=run)


def read_train_log(path: Path) -> dict[str, list[float]]:
    """Columns of a train.csv as float lists (empty cells skipped)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: each run folder needs the run's train.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path} has no logged steps")
    return {key: [float(row[key]) for row in rows if row.get(key) not in (None, "")] for key in rows[0]}


def read_metrics(run: Path, names: list[str]) -> dict:
    """Metrics of a run: the union of its JSON files' `metrics` (or top-level) dicts, first file wins."""
    merged: dict = {}
    for name in names:
        path = run / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not a JSON object: {error}") from None
        if not isinstance(document, dict):
            raise ValueError(f"{path} is not a JSON object: it holds a {type(document).__name__}")
        metrics = dict(document.get("metrics", document))
        if "bits_per_token" in document:
            metrics["bits_per_token"] = document["bits_per_token"]
        for key, value in metrics.items():
            merged.setdefault(key, value)
    return merged


def build_rows(runs: list[Path], metric_names: list[str], skip_steps: int) -> tuple[list[dict], dict]:
    rows, curves = [], {}
    for run in runs:
        log = read_train_log(run / "train.csv")
        metrics = read_metrics(run, metric_names)
        step_times = log.get("step_time_s", [])[skip_steps:]
        row = {"run": run.name, "steps": int(log["step"][-1])}
        row |= {column: metrics.get(key) for column, key in TABLE_COLUMNS}
        row["median step s (logged)"] = statistics.median(step_times) if step_times else None
        rows.append(row)
        curves[run.name] = {"step": log["step"]} | {name: log[name] for name in CURVES if name in log}
    return rows, curves


def format_cell(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


def write_outputs(rows: list[dict], curves: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "table.csv", rows)
    write_json(out / "table.json", rows)
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(format_cell(row[key]) for key in header) + " |" for row in rows]
    (out / "table.md").write_text("\n".join(lines) + "\n")

    figure, axes = plt.subplots(1, len(CURVES), figsize=(6 * len(CURVES), 4), constrained_layout=True)
    for axis, name in zip(axes, CURVES, strict=True):
        for label, curve in curves.items():
            if name in curve:
                axis.plot(curve["step"], curve[name], label=label)
        axis.set_xlabel("step")
        axis.set_ylabel(f"train {name} (mean over the log window)")
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
    axes[0].legend()
    figure.savefig(out / "loss_curves.png", dpi=120)
    plt.close(figure)


def run(args: argparse.Namespace) -> int:
    metric_names = [name.strip() for name in args.metrics.split(",") if name.strip()]
    if not metric_names:
        raise ValueError("--metrics names no file")
    rows, curves = build_rows(args.runs, metric_names, args.skip_steps)
    write_outputs(rows, curves, args.out)
    print((args.out / "table.md").read_text())
    print(f"ablation-report: wrote {args.out}/table.csv, table.json, table.md, loss_curves.png")
    return 0
