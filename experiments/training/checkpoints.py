"""Training checkpoints: safetensors weights, trainer state and config, written atomically and verified on load.

Layout: RUN/checkpoints/step_00001000/{<module>.safetensors..., trainer_state.pt, config.yaml,
manifest.json}; RUN/checkpoints/latest names the newest one. `trainer_state.pt` holds optimizer and
scheduler state and counters (tensors and plain containers, read back with
`torch.load(weights_only=True)`). `manifest.json` records the SHA-256 of every other file and the
run's identity (e.g. the quantizer and its codebook hash): `verify_checkpoint` recomputes the hashes
and names the file that fails, so bit flips and files copied in from another run are refused.

A checkpoint is assembled in a `.tmp` directory and moved into place with os.replace, and `latest`
is rewritten the same way, so a crash never leaves a half-written checkpoint behind a valid name.
`find_latest` resumes from the newest checkpoint that verifies, saying which newer ones it skipped,
and pruning never removes the newest complete checkpoint.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.weights_io import save_safetensors_atomic

CHECKPOINTS_DIR = "checkpoints"
LATEST_FILE = "latest"
STATE_FILE = "trainer_state.pt"
CONFIG_FILE = "config.yaml"
MANIFEST_FILE = "manifest.json"
STEP_PREFIX = "step_"
MANIFEST_VERSION = 1


class IncompleteCheckpointError(ValueError):
    """A checkpoint directory that is missing a file, or whose files do not match its manifest."""


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and os.replace."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def checkpoint_name(step: int) -> str:
    return f"{STEP_PREFIX}{step:08d}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(run_dir: Path, step: int, modules: dict[str, nn.Module], state: dict[str, Any],
                    config_yaml: str, keep: int, identity: dict[str, str] | None = None) -> Path:
    """Write checkpoint `step` under run_dir, point `latest` at it, keep the newest `keep`; returns its path."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    final = root / checkpoint_name(step)
    temporary = root / (final.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    for name, module in modules.items():
        save_safetensors_atomic(module, temporary / f"{name}.safetensors")
    torch.save(state, temporary / STATE_FILE)
    (temporary / CONFIG_FILE).write_text(config_yaml)
    manifest = {"version": MANIFEST_VERSION, "step": step, "identity": dict(identity or {}),
                "files": {path.name: file_sha256(path) for path in sorted(temporary.iterdir())}}
    (temporary / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    if final.exists():
        shutil.rmtree(final)
    os.replace(temporary, final)
    write_text_atomic(root / LATEST_FILE, final.name + "\n")
    prune_checkpoints(root, keep)
    return final


def step_directories(root: Path) -> list[Path]:
    """The step_* checkpoint directories under `root`, oldest first (by step number)."""
    found = [path for path in root.glob(f"{STEP_PREFIX}*") if path.is_dir() and path.name[len(STEP_PREFIX):].isdigit()]
    return sorted(found, key=lambda path: int(path.name[len(STEP_PREFIX):]))


def prune_checkpoints(root: Path, keep: int) -> None:
    """Delete all but the newest `keep` complete checkpoints; older incomplete ones go too, newer ones stay."""
    complete = [path for path in step_directories(root) if checkpoint_problem(path, hashes=False) is None]
    if not complete:
        return
    kept = complete[-max(1, keep):]
    oldest_kept = int(kept[0].name[len(STEP_PREFIX):])
    for path in step_directories(root):
        if path not in kept and int(path.name[len(STEP_PREFIX):]) < oldest_kept:
            shutil.rmtree(path)


def read_manifest(checkpoint: Path) -> dict[str, Any]:
    """The manifest of a checkpoint; IncompleteCheckpointError if it is missing or malformed."""
    path = Path(checkpoint) / MANIFEST_FILE
    if not path.is_file():
        raise IncompleteCheckpointError(f"checkpoint {checkpoint} has no {MANIFEST_FILE} (incomplete or foreign)")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise IncompleteCheckpointError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise IncompleteCheckpointError(f"{path} is not a checkpoint manifest (no 'files' mapping)")
    return manifest


def checkpoint_problem(checkpoint: Path, hashes: bool = True) -> str | None:
    """Why `checkpoint` is not usable (missing/extra files, hash mismatch), or None if it verifies."""
    try:
        verify_checkpoint(checkpoint, hashes=hashes)
    except IncompleteCheckpointError as error:
        return str(error)
    return None


def verify_checkpoint(checkpoint: Path, hashes: bool = True, identity: dict[str, str] | None = None) -> None:
    """IncompleteCheckpointError naming the file that is missing or whose SHA-256 differs from the manifest.

    With `identity`, every key given must match the manifest's identity (e.g. the quantizer).
    """
    checkpoint = Path(checkpoint)
    manifest = read_manifest(checkpoint)
    for name in (STATE_FILE, CONFIG_FILE):
        if name not in manifest["files"]:
            raise IncompleteCheckpointError(f"the manifest of {checkpoint} does not list {name}")
    for name, expected in manifest["files"].items():
        path = checkpoint / name
        if not path.is_file():
            raise IncompleteCheckpointError(f"checkpoint {checkpoint} is missing {name}")
        if hashes and file_sha256(path) != expected:
            raise IncompleteCheckpointError(f"checkpoint file {path} does not match its SHA-256 in {MANIFEST_FILE} "
                                            "(corrupt, or copied from another run)")
    saved = manifest.get("identity", {})
    for key, value in (identity or {}).items():
        if saved.get(key) != value:
            raise IncompleteCheckpointError(f"checkpoint {checkpoint} belongs to another run: its {key} is "
                                            f"{saved.get(key)!r}, this run's is {value!r}")


def resolve_checkpoint(path: str | Path) -> Path:
    """A verified checkpoint directory from itself, a run directory or a run's checkpoints/ directory (newest)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if (path / STATE_FILE).is_file() or (path / MANIFEST_FILE).is_file():
        verify_checkpoint(path)
        return path
    for root in (path / CHECKPOINTS_DIR, path):
        if step_directories(root):
            latest = find_latest_in(root)
            if latest is None:
                raise IncompleteCheckpointError(f"no checkpoint under {root} is complete")
            return latest
    raise FileNotFoundError(f"{path} is neither a checkpoint directory (with {MANIFEST_FILE}) nor a run directory "
                            f"with {CHECKPOINTS_DIR}/{STEP_PREFIX}*")


def find_latest_in(root: Path) -> Path | None:
    """The newest checkpoint under `root` that verifies; newer broken ones are reported on stderr and skipped."""
    named = root / LATEST_FILE
    latest_name = named.read_text().strip() if named.is_file() else ""
    for path in reversed(step_directories(root)):
        problem = checkpoint_problem(path)
        if problem is None:
            if latest_name != path.name:
                print(f"resuming from {path}: {root / LATEST_FILE} names {latest_name or 'nothing'}",
                      file=sys.stderr)
            return path
        print(f"skipping checkpoint {path}: {problem}", file=sys.stderr)
    return None


def find_latest(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None when the run has none yet.

    A run whose checkpoints all fail verification raises IncompleteCheckpointError rather than
    silently starting over.
    """
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not step_directories(root):
        return None
    latest = find_latest_in(root)
    if latest is None:
        raise IncompleteCheckpointError(f"every checkpoint under {root} is incomplete or corrupt; move them away to "
                                        "start over, or resume from a copy")
    return latest


def load_trainer_state(checkpoint: Path) -> dict[str, Any]:
    """The trainer state of a checkpoint directory (tensors and plain containers only)."""
    path = Path(checkpoint) / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} has no {STATE_FILE}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or non-weights files
        raise ValueError(f"{path} is not a readable trainer state: {error}") from error
    if not isinstance(state, dict) or "step" not in state:
        raise ValueError(f"{path} is not a trainer state (no 'step' entry)")
    return state


def load_checkpoint_config(checkpoint: Path) -> dict[str, Any]:
    """The resolved config mapping stored with a checkpoint."""
    from experiments.training.config_io import load_yaml_mapping

    return load_yaml_mapping(Path(checkpoint) / CONFIG_FILE)


def resume_checkpoint(resume: str | None, run_dir: Path) -> Path | None:
    """The checkpoint that `--resume` names: None (fresh), "auto" (the run's newest complete one, if any), a path."""
    if not resume:
        return None
    if resume == "auto":
        return find_latest(run_dir)
    return resolve_checkpoint(resume)
