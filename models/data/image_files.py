"""Finding, reading and writing PNG/JPEG image files as float (C, H, W) tensors in [0, 1]."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Pillow modes of 16-bit grayscale PNGs ("I" in older Pillow versions); `convert` would clip them at 255.
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")
SIXTEEN_BIT_MAX = 65535.0


class UnreadableImageError(ValueError):
    """An image file that cannot be decoded; the message and `path` name it.

    The constructor takes the message first, so that a DataLoader worker can re-raise it as is.
    """

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


def list_image_files(root: str | Path, recursive: bool = True) -> list[Path]:
    """Sorted PNG/JPEG files under `root` (any letter case of the suffix); raises if there are none."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist or is not a folder")
    candidates = root.rglob("*") if recursive else root.iterdir()
    files = sorted(path for path in candidates if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(
            f"no PNG/JPEG images found in {root}{' or its subfolders' if recursive else ''}; "
            f"check the path (accepted suffixes: {', '.join(IMAGE_SUFFIXES)})"
        )
    return files


def _unit_pixels(image, mode: str) -> np.ndarray:
    """Pixels of a Pillow image in `mode` as float32 in [0, 1]: 8-bit values / 255, 16-bit
    grayscale values / 65535 (replicated to three channels for "RGB", as `convert` does)."""
    if image.mode not in SIXTEEN_BIT_MODES:
        return np.asarray(image.convert(mode), dtype=np.float32) / 255.0
    gray_HW = np.asarray(image, dtype=np.float64) / SIXTEEN_BIT_MAX
    channels = {"L": 1, "RGB": 3}.get(mode)
    if channels is None:
        raise ValueError(f"16-bit grayscale images are read as mode 'L' or 'RGB', not {mode!r}")
    return np.repeat(gray_HW[:, :, None], channels, axis=2).astype(np.float32)


def load_image(path: str | Path, mode: str = "RGB") -> torch.Tensor:
    """Decode an image file to float32 (C, H, W) in [0, 1] (C = 3 for "RGB", 1 for "L"); 16-bit
    grayscale PNGs keep their scale (value / 65535)."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} does not exist")
    try:
        with Image.open(path) as image:
            pixels_HWC = _unit_pixels(image, mode)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImageError(f"cannot read image file {path}: {type(error).__name__}: {error}", path) from error
    if pixels_HWC.ndim == 2:
        pixels_HWC = pixels_HWC[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(pixels_HWC.transpose(2, 0, 1)))


def to_uint8_HWC(image_CHW: torch.Tensor) -> np.ndarray:
    """Clamp to [0, 1] and round to an 8-bit (H, W, C) array."""
    if image_CHW.ndim != 3:
        raise ValueError(f"expected an image of shape (C, H, W), got {tuple(image_CHW.shape)}")
    scaled = (image_CHW.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    return scaled.permute(1, 2, 0).cpu().numpy()


def save_image(image_CHW: torch.Tensor, path: str | Path) -> None:
    """Write a float (C, H, W) image in [0, 1] as an 8-bit file whose format follows the suffix."""
    from PIL import Image

    pixels = to_uint8_HWC(image_CHW)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(path)


def image_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image file from its header alone; UnreadableImageError if it has none."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError) as error:
        raise UnreadableImageError(f"{path} is not a readable image: {error}", Path(path)) from error
    return height, width
