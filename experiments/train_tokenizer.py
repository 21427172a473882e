"""`slq train-tokenizer`: train the ViT tokenizer from a YAML config, on one device or under torchrun (DDP)."""
from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-tokenizer",
        help="train the ViT tokenizer (single device or torchrun multi-GPU)",
        description="Train the ViT autoencoder tokenizer with any quantizer. The config is a YAML file "
        "mapped onto nested dataclasses (see docs/tokenizer.md); --set overrides single keys. For several "
        "GPUs launch with `torchrun --nproc-per-node N -m experiments.cli train-tokenizer ...`.",
    )
    parser.add_argument("--config", required=True, help="YAML config file (e.g. configs/tiny-cpu.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key, e.g. --set train.steps=100 (repeatable; values are YAML)")
    parser.add_argument("--resume", metavar="PATH|auto",
                        help="continue from a checkpoint directory or run directory; 'auto' resumes the "
                        "newest checkpoint of train.run_dir if there is one, else starts fresh")
    parser.add_argument("--stop-at", type=int, metavar="STEP",
                        help="stop at this global step with a checkpoint (split a run over several jobs; "
                        "continue with --resume auto)")
    parser.set_defaults(func=run)


def prepare(args: argparse.Namespace):
    """Every check that needs no accelerator: config, resume compatibility, training/eval images, VF weights."""
    from experiments.tokenizer_checkpoint import find_latest, load_checkpoint_config, resolve_checkpoint
    from experiments.tokenizer_config import load_config
    from experiments.tokenizer_data import DecodedRandomCrops
    from experiments.tokenizer_trainer import check_resume_compatible
    from models.data import list_image_files

    if args.stop_at is not None and args.stop_at < 1:
        raise ValueError(f"--stop-at must be a positive step, got {args.stop_at}")
    config = load_config(args.config, args.overrides)
    run_dir = Path(config.train.run_dir)
    if args.resume == "auto":
        resume = find_latest(run_dir)
    elif args.resume:
        resume = resolve_checkpoint(args.resume)
    else:
        resume = None
    if resume is not None:
        check_resume_compatible(load_checkpoint_config(resume), config, resume)
    if config.loss.vf.weight > 0 and not Path(config.loss.vf.weights).is_file():
        raise FileNotFoundError(f"loss.vf.weights: DINOv2 weights file {config.loss.vf.weights} does not exist")
    if config.eval.data_dir:
        list_image_files(config.eval.data_dir)
    dataset = DecodedRandomCrops(config.data.train_dir, config.data.crop_size, config.train.seed)
    return config, run_dir, resume, dataset


def record_run(run_dir: Path, config_yaml: str, world_size: int, resume: Path | None) -> None:
    """Write the resolved config and append the command line to the run directory."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(config_yaml)
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    command = shlex.join(sys.argv)
    with (run_dir / "command.txt").open("a") as handle:
        handle.write(f"{stamp} cwd={os.getcwd()} world_size={world_size} "
                     f"resume={resume or '-'}\n  {command}\n")


def run(args: argparse.Namespace) -> int:
    from experiments.distributed import init_distributed, shutdown_distributed
    from experiments.tokenizer_config import config_to_yaml
    from experiments.tokenizer_periodic_eval import PeriodicEvaluation
    from experiments.tokenizer_trainer import TokenizerTrainer

    config, run_dir, resume, dataset = prepare(args)
    context = init_distributed(config.train.device)
    try:
        if config.data.batch_size % context.world_size:
            raise ValueError(f"data.batch_size {config.data.batch_size} is not divisible by the "
                             f"{context.world_size} ranks")
        if context.is_main:
            record_run(run_dir, config_to_yaml(config), context.world_size, resume)
            print(f"train-tokenizer: {len(dataset)} training images, run directory {run_dir}"
                  + (f", resuming from {resume}" if resume else ""), file=sys.stderr)
        trainer = TokenizerTrainer(config, context, run_dir, resume, dataset)
        evaluate = PeriodicEvaluation(config, context.device) if config.eval.data_dir else None
        trainer.train(evaluate, stop_at=args.stop_at)
    finally:
        shutdown_distributed(context)
    return 0
