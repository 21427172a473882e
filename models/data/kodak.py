"""The Kodak Lossless True Color Image Suite (kodim01-24.png) as an evaluation set."""
from __future__ import annotations

from pathlib import Path

from models.data.image_folder import ImageFolderDataset

KODAK_FILES = tuple(f"kodim{number:02d}.png" for number in range(1, 25))


def kodak_dataset(root: str | Path, crop_size: int | None = None) -> ImageFolderDataset:
    """The 24 Kodak images at full resolution (768x512 or 512x768) or as central crop_size squares."""
    root = Path(root)
    missing = [name for name in KODAK_FILES if not (root / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"the Kodak folder {root} lacks {len(missing)} of kodim01-24.png (e.g. {missing[0]}); "
            "pass the folder that holds all 24 files"
        )
    return ImageFolderDataset(root, train=False, crop_size=crop_size, files=[root / name for name in KODAK_FILES])
