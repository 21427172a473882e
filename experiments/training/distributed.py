"""Process-group setup for torchrun (env:// init when WORLD_SIZE > 1) and small collective helpers."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """Where this process runs: rank among world_size processes, and its torch device."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, str(default))
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"environment variable {name}={text!r} is not an integer") from None


def resolve_device(requested: str) -> torch.device:
    """"auto" -> cuda if available else cpu; otherwise the named device, checked to exist."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise ValueError(f"device {requested!r} is not a torch device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {requested!r} was requested but CUDA is not available")
    return device


def init_distributed(requested_device: str) -> DistributedContext:
    """Single process unless WORLD_SIZE > 1 (torchrun): then nccl on CUDA / gloo on CPU, one GPU per LOCAL_RANK."""
    world_size = _env_int("WORLD_SIZE", 1)
    device = resolve_device(requested_device)
    if world_size <= 1:
        return DistributedContext(rank=0, world_size=1, device=device)
    rank, local_rank = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo", init_method="env://",
                                device_id=device if device.type == "cuda" else None)
    return DistributedContext(rank=rank, world_size=world_size, device=device)


def shutdown_distributed(context: DistributedContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()


def mean_over_ranks(values: dict[str, torch.Tensor], context: DistributedContext) -> dict[str, float]:
    """Average scalar tensors over all ranks (one all-reduce) and return Python floats."""
    if not values:
        return {}
    stacked = torch.stack([value.detach().to(context.device, torch.float64).reshape(()) for value in values.values()])
    if context.enabled:
        dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
        stacked /= context.world_size
    return dict(zip(values, stacked.tolist(), strict=True))


def barrier(context: DistributedContext) -> None:
    if context.enabled:
        dist.barrier()
