"""`slq tokenize` / `slq train-generator` / `slq sample` end to end on CPU, on a small generated Fashion-MNIST.

A tiny multi-scale Λ24 tokenizer trains for one step on 48 generated 28x28 images written as idx
files; its tokens train a tiny generator for 3 steps, which is checkpointed, resumed and sampled.
"""
from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from experiments.cli import main as slq_main
from experiments.generator.token_cache import read_token_cache

pytestmark = pytest.mark.xdist_group("generator-train")

REPO = Path(__file__).resolve().parents[2]
TINY_TOKENIZER = ["--set", "model.width=32", "--set", "model.encoder_depth=1", "--set", "model.decoder_depth=1",
                  "--set", "model.num_heads=2", "--set", "loss.lpips=0", "--set", "data.batch_size=8",
                  "--set", "data.num_workers=0", "--set", "train.device=cpu", "--set", "train.precision=fp32",
                  "--set", "train.progress_bar=false"]
TINY_GENERATOR = ["--set", "model.preset=tiny", "--set", "data.batch_size=8", "--set", "train.device=cpu",
                  "--set", "train.precision=fp32", "--set", "train.progress_bar=false", "--set", "train.log_every=1",
                  "--set", "train.checkpoint_every=1", "--set", "train.steps=3", "--set", "optim.warmup_steps=1"]


def slq(*argv) -> int:
    return slq_main([str(arg) for arg in argv])


def write_idx(path: Path, array: np.ndarray) -> None:
    codes = {np.dtype(np.uint8): 0x08}
    header = struct.pack(">HBB", 0, codes[array.dtype], array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))


@pytest.fixture(scope="module")
def fake_fmnist(tmp_path_factory) -> Path:
    """Idx files of 48 training and 16 test images: blobs whose position depends on the label."""
    root = tmp_path_factory.mktemp("fake-fmnist")
    rng = np.random.default_rng(0)
    for split, count, prefix in (("train", 48, "train"), ("test", 16, "t10k")):
        labels = np.arange(count, dtype=np.uint8) % 10
        images = np.zeros((count, 28, 28), dtype=np.uint8)
        for n, label in enumerate(labels):
            top, left = 2 + 2 * (label // 5) * 5, 2 + 4 * (label % 5)
            images[n, top:top + 10, left:left + 8] = rng.integers(120, 255)
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


@pytest.fixture(scope="module")
def tokens(fake_fmnist: Path, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generator-run")
    tokenizer = root / "tokenizer"
    assert slq("train-tokenizer", "--config", REPO / "configs/fmnist-tokenizer-leech24.yaml", *TINY_TOKENIZER,
               "--set", f"data.train_dir={fake_fmnist}", "--set", f"train.run_dir={tokenizer}",
               "--set", "train.steps=1") == 0
    cache = root / "tokens.safetensors"
    assert slq("tokenize", tokenizer, "--data", fake_fmnist, "--out", cache, "--device", "cpu",
               "--batch-size", "16", "--reconstructions", root / "recon.npz") == 0
    return {"root": root, "tokenizer": tokenizer, "cache": cache}


def train_generator(tokens: dict[str, Path], run_dir: Path, *extra) -> int:
    return slq("train-generator", "--config", REPO / "configs/fmnist-generator-leech24-full.yaml", *TINY_GENERATOR,
               "--set", f"data.tokens={tokens['cache']}", "--set", f"data.tokenizer={tokens['tokenizer']}",
               "--set", f"train.run_dir={run_dir}", *extra)


def test_token_cache_holds_every_scale_and_the_reconstructions(tokens) -> None:
    cache = read_token_cache(tokens["cache"])
    assert cache.scales == [1, 2, 3, 4, 6, 8] and cache.codebook_size == 196_560 and len(cache) == 48
    assert [tuple(index_map.shape) for index_map in cache.scales_N] == [(48, s, s) for s in cache.scales]
    assert cache.labels_N.tolist() == [n % 10 for n in range(48)]
    recon = np.load(tokens["root"] / "recon.npz")
    assert recon["images"].shape == (48, 3, 32, 32) and recon["images"].dtype == np.uint8


def test_training_resumes_exactly_and_samples(tokens, tmp_path: Path) -> None:
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train_generator(tokens, straight) == 0
    assert train_generator(tokens, split, "--stop-at", "2") == 0
    assert train_generator(tokens, split, "--resume", "auto") == 0
    final = [run / "checkpoints" / "step_00000003" for run in (straight, split)]
    for name in ("model", "ema"):
        expected, actual = (load_file(path / f"{name}.safetensors") for path in final)
        assert all(torch.equal(expected[key], actual[key]) for key in expected), name
    rows = (straight / "train.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert [f"accuracy_scale_{k}" in header for k in range(6)] == [True] * 6 and "tokens_per_s" in header
    assert len(rows) == 4  # header and steps 1, 2, 3

    out = tmp_path / "samples"
    assert slq("sample", straight, "--classes", "0-9", "--per-class", "2", "--cfg", "1.5", "--top-k", "50",
               "--top-p", "0.9", "--seed", "3", "--device", "cpu", "--out", out) == 0
    samples = np.load(out / "samples.npz")
    assert samples["images"].shape == (20, 3, 32, 32) and samples["images"].dtype == np.uint8
    assert samples["labels"].tolist() == [c for c in range(10) for _ in range(2)]
    assert [samples[f"indices_{k}"].shape for k in range(6)] == [(20, s, s) for s in (1, 2, 3, 4, 6, 8)]
    assert Image.open(out / "grid.png").size[1] == 10 * 64 + 9 * 2 and (out / "class_7.png").is_file()
    report = json.loads((out / "sampling.json").read_text())
    assert report["images"] == 20 and report["cfg"] == 1.5 and report["images_per_s"] > 0
    again = tmp_path / "again"
    assert slq("sample", straight, "--classes", "0-9", "--per-class", "2", "--cfg", "1.5", "--top-k", "50",
               "--top-p", "0.9", "--seed", "3", "--device", "cpu", "--out", again) == 0
    assert np.array_equal(np.load(again / "samples.npz")["images"], samples["images"])  # the seed fixes the draw


@pytest.fixture(scope="module")
def one_step_generator(tokens) -> Path:
    run_dir = tokens["root"] / "one-step"
    assert train_generator(tokens, run_dir, "--set", "train.steps=1") == 0
    return run_dir


@pytest.mark.parametrize("argv, message", [
    (["--cfg", "-1"], "--cfg must be a finite number >= 0, got -1.0"),
    (["--top-k", "0"], "--top-k must be positive, got 0"),
    (["--top-p", "1.5"], "--top-p must lie in (0, 1], got 1.5"),
    (["--temperature", "0"], "--temperature must be positive, got 0.0"),
    (["--classes", "0-10"], "--classes goes up to 10, the generator knows 10"),
])
def test_sample_refuses_bad_options_with_one_line(one_step_generator: Path, tmp_path: Path, argv, message,
                                                  capsys) -> None:
    assert slq("sample", one_step_generator, *argv, "--device", "cpu", "--out", tmp_path / "out") == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_mismatched_tokens_heads_and_corrupt_caches_fail_before_training(fake_fmnist, tokens, tmp_path,
                                                                        capsys) -> None:
    assert train_generator(tokens, tmp_path / "a", "--set", "model.head=bits") == 2
    assert "model.head bits reads bsq or lfq tokens, but data.tokenizer quantizes with leech24" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(tokens["cache"].read_bytes()[:1000])
    assert train_generator(tokens, tmp_path / "b", "--set", f"data.tokens={corrupt}") == 2
    assert "is not a readable safetensors file" in capsys.readouterr().err
    other = tmp_path / "other-tokenizer"
    assert slq("train-tokenizer", "--config", REPO / "configs/fmnist-tokenizer-leech24.yaml", *TINY_TOKENIZER,
               "--set", f"data.train_dir={fake_fmnist}", "--set", f"train.run_dir={other}",
               "--set", "train.steps=1", "--set", "train.seed=1") == 0
    capsys.readouterr()
    assert train_generator(tokens, tmp_path / "c", "--set", f"data.tokenizer={other}") == 2
    assert "was made by another tokenizer than data.tokenizer" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()
