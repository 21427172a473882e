"""Pairing reconstructions with references by file name (relative path without the suffix)."""
from __future__ import annotations

from pathlib import Path

from models.data.image_files import image_size, list_image_files

_SHOWN = 5


def _by_stem(root: Path, what: str) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in list_image_files(root):
        key = path.relative_to(root).with_suffix("").as_posix()
        if key in files:
            raise ValueError(f"{what} folder {root} has two images named {key}: {files[key].name} and {path.name}")
        files[key] = path
    return files


def _examples(keys: list[str]) -> str:
    return ", ".join(keys[:_SHOWN]) + (", ..." if len(keys) > _SHOWN else "")


def pair_image_files(recon_dir: str | Path, ref_dir: str | Path) -> list[tuple[str, Path, Path]]:
    """(name, reconstruction path, reference path) for every name, sorted; unpaired names raise."""
    recon = _by_stem(Path(recon_dir), "reconstruction")
    ref = _by_stem(Path(ref_dir), "reference")
    only_recon = sorted(recon.keys() - ref.keys())
    only_ref = sorted(ref.keys() - recon.keys())
    if only_recon or only_ref:
        problems = []
        if only_recon:
            problems.append(f"{len(only_recon)} reconstruction(s) without a reference ({_examples(only_recon)})")
        if only_ref:
            problems.append(f"{len(only_ref)} reference(s) without a reconstruction ({_examples(only_ref)})")
        raise ValueError(
            f"unpaired images: {'; '.join(problems)}. Name each reconstruction like its reference "
            f"(same relative path; the suffix may differ) in {recon_dir} and {ref_dir}"
        )
    pairs = [(key, recon[key], ref[key]) for key in sorted(recon)]
    _check_sizes(pairs)
    return pairs


def _check_sizes(pairs: list[tuple[str, Path, Path]]) -> None:
    """ValueError naming the first pair whose sizes differ, read from the file headers before any metric."""
    for name, recon_path, ref_path in pairs:
        (recon_height, recon_width), (ref_height, ref_width) = image_size(recon_path), image_size(ref_path)
        if (recon_height, recon_width) != (ref_height, ref_width):
            raise ValueError(f"{name}: reconstruction {recon_path} is {recon_height}x{recon_width} but reference "
                             f"{ref_path} is {ref_height}x{ref_width}; reconstructions must have their reference's "
                             "size (checked for every pair before any metric)")
