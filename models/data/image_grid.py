"""Side-by-side image grids (e.g. reference | reconstruction per row) as one image tensor."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def _to_height(image_CHW: torch.Tensor, height: int) -> torch.Tensor:
    image_CHW = image_CHW.float().clamp(0, 1)
    if image_CHW.shape[0] == 1:
        image_CHW = image_CHW.expand(3, -1, -1)
    if image_CHW.shape[0] != 3:
        raise ValueError(f"grid images need 1 or 3 channels, got {image_CHW.shape[0]}")
    width = max(1, round(image_CHW.shape[2] * height / image_CHW.shape[1]))
    return F.interpolate(image_CHW[None], size=(height, width), mode="bilinear", antialias=True)[0].clamp(0, 1)


def image_grid(rows: Sequence[Sequence[torch.Tensor]], row_height: int = 256, gap: int = 4) -> torch.Tensor:
    """Each row's (C, H, W) images scaled to `row_height`, side by side on a white (3, H, W) canvas."""
    if not rows or not all(rows):
        raise ValueError("an image grid needs at least one row, and at least one image per row")
    scaled = [[_to_height(image, row_height) for image in row] for row in rows]
    widths = [sum(image.shape[2] for image in row) + gap * (len(row) - 1) for row in scaled]
    canvas = torch.ones(3, len(rows) * row_height + gap * (len(rows) - 1), max(widths))
    for row_index, row in enumerate(scaled):
        top, left = row_index * (row_height + gap), 0
        for image in row:
            canvas[:, top : top + row_height, left : left + image.shape[2]] = image
            left += image.shape[2] + gap
    return canvas
