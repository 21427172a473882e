"""The shared data sets (../shared/data beside the checkout) for tests: skip visibly when absent, fail under SLQ_REQUIRE_DATA=1."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(name: str) -> Path:
    """The folder ../shared/data/<name>; skips the test (fails when SLQ_REQUIRE_DATA=1) if it is missing."""
    path = SHARED_DATA_DIR / name
    if not path.is_dir():
        message = f"needs the shared data set {path} (absent on this clone)"
        if os.environ.get("SLQ_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
