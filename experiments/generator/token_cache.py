"""`slq tokenize`: a data set tokenized once into per-scale index maps (safetensors), so generator steps never run the tokenizer.

The cache holds `scale_00` … `scale_K` (int32, (N, h_k, w_k)), `labels` (int64, (N,)) and string
metadata: the format, the tokenizer checkpoint's manifest hash (its identity), the scale sides,
the codebook size and the source. `read_token_cache` checks every field (keys, shapes, dtypes,
index and label ranges) and names what is wrong, before any training work.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

CACHE_FORMAT = "slq-token-cache-1"
NUM_CLASSES = 10


@dataclass
class TokenCache:
    """Index maps per scale (int64 tensors (N, s, s)), labels (N,), and what produced them."""

    scales_N: list[torch.Tensor]
    labels_N: torch.Tensor
    tokenizer_id: str
    scales: list[int]
    codebook_size: int

    def __len__(self) -> int:
        return len(self.labels_N)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tokenize",
        help="tokenize Fashion-MNIST once with a multi-scale tokenizer (the generator's training data)",
        description="Encode one split of Fashion-MNIST (32x32 RGB, zero-padded) with a tokenizer checkpoint and "
        "write its per-scale token maps and labels as one safetensors file; `slq train-generator` reads it.",
    )
    parser.add_argument("tokenizer", help="tokenizer checkpoint directory or run directory (newest checkpoint)")
    parser.add_argument("--data", required=True, help="folder with the Fashion-MNIST idx files")
    parser.add_argument("--split", choices=("train", "test"), default="train")
    parser.add_argument("--out", required=True, help="output .safetensors file")
    parser.add_argument("--weights", choices=("ema", "model"), default="ema")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--max-images", type=int, help="tokenize only the first N images of the split")
    parser.add_argument("--reconstructions", metavar="NPZ",
                        help="also write the tokenizer's reconstructions (uint8 (N, 3, 32, 32)) and labels: the "
                        "oracle row of `slq eval-generation`")
    parser.set_defaults(func=run)


def tokenizer_identity(checkpoint: Path) -> str:
    """SHA-256 of a checkpoint's manifest, which lists the SHA-256 of every file: the tokenizer's identity."""
    from experiments.training.checkpoints import MANIFEST_FILE

    return hashlib.sha256((Path(checkpoint) / MANIFEST_FILE).read_bytes()).hexdigest()


def write_token_cache(path: Path, cache: TokenCache, source: str) -> None:
    import torch
    from safetensors.torch import save_file

    tensors = {f"scale_{k:02d}": index_map.to(torch.int32).contiguous() for k, index_map in enumerate(cache.scales_N)}
    tensors["labels"] = cache.labels_N.to(torch.int64).contiguous()
    metadata = {"format": CACHE_FORMAT, "tokenizer": cache.tokenizer_id, "scales": json.dumps(cache.scales),
                "codebook_size": str(cache.codebook_size), "source": source}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    save_file(tensors, str(temporary), metadata=metadata)
    temporary.replace(path)


def read_token_cache(path: str | Path) -> TokenCache:
    """The cache at `path`, every field checked; ValueError naming the first problem."""
    import torch
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"token cache {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(f"token cache {path} is not a readable safetensors file: {error}") from error
    if metadata.get("format") != CACHE_FORMAT:
        raise ValueError(f"{path} is not a token cache of format {CACHE_FORMAT} (format {metadata.get('format')!r})")
    try:
        scales = json.loads(metadata["scales"])
        codebook_size = int(metadata["codebook_size"])
        tokenizer_id = metadata["tokenizer"]
    except (KeyError, ValueError, TypeError) as error:
        raise ValueError(f"token cache {path} has malformed metadata: {error}") from error
    if not isinstance(scales, list) or not scales or not all(isinstance(side, int) and side > 0 for side in scales):
        raise ValueError(f"token cache {path}: scales must be a non-empty list of positive sides, got {scales!r}")
    expected = {f"scale_{k:02d}" for k in range(len(scales))} | {"labels"}
    if set(tensors) != expected:
        raise ValueError(f"token cache {path} holds {sorted(tensors)}, expected {sorted(expected)}")
    labels = tensors["labels"]
    if labels.dtype != torch.int64 or labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"token cache {path}: labels must be a non-empty int64 vector, got {labels.dtype} "
                         f"{tuple(labels.shape)}")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"token cache {path}: labels outside 0..{NUM_CLASSES - 1}")
    maps = []
    for k, side in enumerate(scales):
        index_map = tensors[f"scale_{k:02d}"]
        if index_map.dtype != torch.int32 or tuple(index_map.shape) != (len(labels), side, side):
            raise ValueError(f"token cache {path}: scale_{k:02d} must be int32 of shape ({len(labels)}, {side}, "
                             f"{side}), got {index_map.dtype} {tuple(index_map.shape)}")
        if index_map.min() < 0 or index_map.max() >= codebook_size:
            raise ValueError(f"token cache {path}: scale_{k:02d} holds indices outside 0..{codebook_size - 1}")
        maps.append(index_map.long())
    return TokenCache(maps, labels, tokenizer_id, scales, codebook_size)


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from experiments.tokenizer.evaluate import load_tokenizer
    from experiments.training.checkpoints import resolve_checkpoint
    from experiments.training.distributed import resolve_device
    from models.data import FashionMNIST32

    if args.batch_size < 1 or (args.max_images is not None and args.max_images < 1):
        raise ValueError("--batch-size and --max-images must be positive")
    checkpoint = resolve_checkpoint(args.tokenizer)
    tokenizer = load_tokenizer(checkpoint, args.weights)
    if not tokenizer.multiscale:
        raise ValueError(f"tokenizer {checkpoint} has no model.scales: the generator needs a multi-scale tokenizer")
    dataset = FashionMNIST32(args.data, args.split)
    if args.max_images is not None:
        dataset.images_N3HW, dataset.labels_N = dataset.images_N3HW[:args.max_images], dataset.labels_N[:args.max_images]
    device = resolve_device(args.device)
    tokenizer.to(device)
    scales: list[list] = [[] for _ in tokenizer.config.scales]
    reconstructions = []
    with torch.no_grad():
        for start in tqdm(range(0, len(dataset), args.batch_size), desc="tokenize", unit="batch"):
            images = dataset.images_N3HW[start:start + args.batch_size].to(device).float().div(255)
            index_maps = tokenizer.encode_to_scales(images)
            for k, index_map in enumerate(index_maps):
                scales[k].append(index_map.cpu())
            if args.reconstructions:
                decoded = tokenizer.decode_from_scales(index_maps).clamp(0, 1)
                reconstructions.append(decoded.mul(255).round().to(torch.uint8).cpu())
    cache = TokenCache([torch.cat(maps) for maps in scales], dataset.labels_N, tokenizer_identity(checkpoint),
                       list(tokenizer.config.scales), tokenizer.quantizer.codebook_size)
    write_token_cache(Path(args.out), cache, f"fashion-mnist {args.split} ({args.data})")
    if args.reconstructions:
        import numpy as np

        Path(args.reconstructions).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.reconstructions, images=torch.cat(reconstructions).numpy(), labels=dataset.labels_N.numpy())
    tokens = sum(side * side for side in cache.scales)
    print(f"tokenize: {len(cache)} images x {tokens} tokens over scales {cache.scales} -> {args.out}", file=sys.stderr)
    return 0
