"""`slq bench-generator`: the `full` head's fused loss path against naive logits, and KV-cache sampling, in one run."""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

from experiments.bench_results import command_line, local_timestamp, machine, report

FIELDS = ("measurement", "variant", "device", "dtype", "batch", "tokens_per_image", "vocab", "seconds",
          "peak_extra_bytes", "images_per_second", "ratio_to_baseline", "note")
DTYPES = ("float32", "bfloat16")


def _positive_ints(text: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in text.split(","))
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return values


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench-generator",
        help="time and measure the generator's fused V-way loss against naive logits, and KV-cache sampling",
        description="Builds a next-scale transformer (models.generator) with the `full` head over Λ24-SQ "
        "(196,560 codes) on seeded random tokens. In the same run: (1) the head's loss path alone "
        "(hidden → loss → backward) with the chunked fused cross-entropy + Z-loss (backward "
        "recomputing the logits, or gradients computed in forward) and with naive "
        "logits (F.linear, logsumexp, cross_entropy): peak extra memory (torch.cuda.max_memory_allocated; "
        "null on CPU, which has no peak counter); (2) a whole AR training step (forward + backward) "
        "with each loss path, fastest of --repeats; (3) sampling images/s with and without the KV "
        "cache (same seed; the indices must agree). Writes results.json and results.csv with --out.",
    )
    parser.add_argument("--batch", type=int, default=256, help="images per training step (default 256)")
    parser.add_argument("--scales", type=_positive_ints, default=(1, 2, 3, 4, 6, 8),
                        help="scale schedule (default 1,2,3,4,6,8: 130 tokens)")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--depth", type=int, default=12)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--sample-batch", type=int, default=16, help="images per sampling call (default 16)")
    parser.add_argument("--cfg", type=float, default=1.5, help="guidance of the sampling calls (default 1.5)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--dtype", choices=DTYPES, default="float32",
                        help="bfloat16: autocast on the transformer (CUDA); the loss paths take its hidden states")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per variant; the fastest counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="directory for results.json and results.csv")
    parser.set_defaults(func=run)


def _check_arguments(args: argparse.Namespace) -> None:
    for name in ("batch", "width", "depth", "heads", "sample_batch", "repeats"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be ≥ 1, got {getattr(args, name)}")
    if args.cfg < 0:
        raise ValueError(f"--cfg must be ≥ 0, got {args.cfg}")
    if args.width % args.heads:
        raise ValueError(f"--width {args.width} must be divisible by --heads {args.heads}")


def _measure(function: Callable, device, repeats: int) -> tuple[float, int | None, object]:
    """(fastest seconds, largest peak extra bytes on CUDA or None, last result) over `repeats` calls."""
    import torch

    best, peak, result = float("inf"), None, None
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            before = torch.cuda.memory_allocated(device)
        start = time.perf_counter()
        result = function()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            peak = max(peak or 0, torch.cuda.max_memory_allocated(device) - before)
        best = min(best, time.perf_counter() - start)
    return best, peak, result


def naive_loss(head, hidden_NC, target_N):
    """The reference: all (N × V) logits, cross-entropy plus the head's Z-loss."""
    import torch
    from torch.nn import functional as F

    logits_NV = head.logits(hidden_NC).float()
    return F.cross_entropy(logits_NV, target_N) + head.z_loss_weight * torch.logsumexp(logits_NV, 1).square().mean()


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    import torch
    from tqdm import tqdm

    from models.generator import (
        GeneratorConfig,
        NextScaleTransformer,
        build_head,
        flatten_scales,
        fused_linear_cross_entropy,
        sample_scales,
        teacher_forcing_inputs,
    )
    from quantizers.leech24 import Leech24Quantizer
    from quantizers.multiscale import MultiScaleResidualQuantizer

    if args.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda but CUDA is not available")
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    quantizer = MultiScaleResidualQuantizer(Leech24Quantizer(), scales=args.scales, channel_first=True).to(device)
    config = GeneratorConfig(num_classes=10, scales=args.scales, code_dim=quantizer.dim, width=args.width,
                             depth=args.depth, heads=args.heads)
    model = NextScaleTransformer(config, build_head("full", args.width, quantizer)).to(device)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    indices = [torch.randint(quantizer.codebook_size, (args.batch, h, w), device=device, generator=generator)
               for h, w in quantizer.sizes]
    class_B = torch.randint(config.num_classes, (args.batch,), device=device, generator=generator)
    inputs_BLd, target_N = teacher_forcing_inputs(quantizer, indices), flatten_scales(indices).flatten()
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.dtype == "bfloat16")
    def fused(hidden_NC, gradients_in_forward: bool):
        return fused_linear_cross_entropy(hidden_NC.float(), model.head.proj.weight, target_N,
                                          bias_V=model.head.proj.bias, z_loss_weight=model.head.z_loss_weight,
                                          gradients_in_forward=gradients_in_forward)

    losses = {"fused": lambda hidden_NC: fused(hidden_NC, False),
              "fused, gradients in forward": lambda hidden_NC: fused(hidden_NC, True),
              "naive": lambda hidden_NC: naive_loss(model.head, hidden_NC.float(), target_N)}
    base = dict(device=args.device, dtype=args.dtype, tokens_per_image=model.num_tokens, vocab=quantizer.codebook_size)
    rows, values = [], {}
    model.train()
    with autocast:
        hidden_NC = model(class_B, inputs_BLd).flatten(0, 1).detach()
    for variant, loss_of in tqdm(losses.items(), desc="loss paths", unit="variant"):
        def head_path(loss_of=loss_of):
            hidden = hidden_NC.clone().requires_grad_(True)
            loss = loss_of(hidden)
            loss.backward()
            model.zero_grad(set_to_none=True)
            return loss.detach()

        def train_step(loss_of=loss_of):
            with autocast:
                hidden = model(class_B, inputs_BLd).flatten(0, 1)
            loss = loss_of(hidden)
            loss.backward()
            model.zero_grad(set_to_none=True)
            return loss.detach()

        head_seconds, head_peak, values[variant] = _measure(head_path, device, args.repeats)
        step_seconds, step_peak, _ = _measure(train_step, device, args.repeats)
        rows.append(base | dict(measurement="head loss path", variant=variant, batch=args.batch,
                                seconds=head_seconds, peak_extra_bytes=head_peak))
        rows.append(base | dict(measurement="training step", variant=variant, batch=args.batch,
                                seconds=step_seconds, peak_extra_bytes=step_peak))
    for measurement in ("head loss path", "training step"):
        naive = next(row for row in rows if row["measurement"] == measurement and row["variant"] == "naive")
        for row in rows:
            if row["measurement"] == measurement:
                row["ratio_to_baseline"] = row["seconds"] / naive["seconds"]
                if row["variant"] != "naive":
                    row["note"] = f"loss {float(values[row['variant']]):.6g} vs naive {float(values['naive']):.6g}"
    model.eval()
    sample_classes = torch.arange(args.sample_batch, device=device) % config.num_classes
    sampled = {}
    for variant, use_cache in tqdm((("kv cache", True), ("recompute", False)), desc="sampling", unit="variant"):
        def sample(use_cache=use_cache):
            with autocast:
                return sample_scales(model, quantizer, sample_classes, cfg=args.cfg, top_k=900, top_p=0.96,
                                     generator=torch.Generator(device=device).manual_seed(args.seed),
                                     use_kv_cache=use_cache)
        seconds, peak, sampled[variant] = _measure(sample, device, args.repeats)
        rows.append(base | dict(measurement="sampling", variant=variant, batch=args.sample_batch, seconds=seconds,
                                peak_extra_bytes=peak, images_per_second=args.sample_batch / seconds))
    agree = all(torch.equal(a, b) for a, b in zip(sampled["kv cache"], sampled["recompute"]))
    recompute = rows[-1]
    for row in rows[-2:]:
        row["ratio_to_baseline"] = row["images_per_second"] / recompute["images_per_second"]
        row["note"] = f"indices equal across variants: {agree}"
    meta = dict(command=command_line(), time=local_timestamp(), machine=machine(), torch=torch.__version__,
                cuda_device=torch.cuda.get_device_name(device) if device.type == "cuda" else None,
                parameters=sum(parameter.numel() for parameter in model.parameters()))
    for row in rows:
        print(f"{row['measurement']:>15} {row['variant']:>10}: {row['seconds']:.4f} s, peak "
              f"{row['peak_extra_bytes']} B, ratio {row.get('ratio_to_baseline', 1):.3f}")
    report(meta, rows, FIELDS, args.out)
    return 0
