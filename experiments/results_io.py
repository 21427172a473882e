"""Strict JSON and CSV result files: non-finite floats become null, so every JSON parser reads them."""
from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def finite_or_none(value: Any) -> Any:
    """`value` with every non-finite float (NaN, ±inf) inside dicts, lists and tuples replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def strict_json(value: Any, **options: Any) -> str:
    """JSON text of `value` with non-finite floats written as null (never NaN or Infinity)."""
    return json.dumps(finite_or_none(value), allow_nan=False, **options)


def write_json(path: str | Path, value: Any) -> None:
    """Write `value` as indented strict JSON through a temporary file and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(strict_json(value, indent=2, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


def write_csv(path: str | Path, rows: Sequence[dict], fields: Sequence[str] | None = None) -> None:
    """Write `rows` under the header `fields` (default: the first row's keys); missing cells stay empty."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(fields) if fields is not None else list(rows[0]) if rows else []
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
