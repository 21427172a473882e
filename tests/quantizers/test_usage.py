"""CodebookUsage statistics (known values, bad input) and their all-reduce over two gloo processes."""
from __future__ import annotations

import math

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from quantizers import CodebookUsage, VectorQuantizer

CODEBOOK_SIZE = 196_560


def test_known_statistics():
    usage = CodebookUsage(4)
    usage.update(torch.tensor([[0, 0], [1, 2]]))
    usage.update(torch.tensor([0, 1], dtype=torch.int32))
    stats = usage.compute()
    probabilities = [3 / 6, 2 / 6, 1 / 6]
    assert stats["hits"] == 6
    assert stats["perplexity"] == pytest.approx(math.exp(-sum(p * math.log(p) for p in probabilities)))
    assert stats["used_fraction"] == 0.75
    assert stats["max_min_ratio"] == math.inf
    usage.update(torch.tensor([3]))
    assert usage.compute()["max_min_ratio"] == 3.0
    usage.reset()
    with pytest.raises(ValueError, match="no indices"):
        usage.compute()


def test_uniform_usage_of_the_leech_codebook():
    usage = CodebookUsage(CODEBOOK_SIZE)
    usage.update(torch.arange(CODEBOOK_SIZE).repeat(2))
    stats = usage.compute()
    assert stats["perplexity"] == pytest.approx(CODEBOOK_SIZE, rel=1e-9)
    assert stats["used_fraction"] == 1.0 and stats["max_min_ratio"] == 1.0


def test_unchecked_update_counts_the_same_and_still_fails_out_of_range():
    indices = torch.randint(0, CODEBOOK_SIZE, (3, 4096), generator=torch.Generator().manual_seed(0))
    checked, unchecked = CodebookUsage(CODEBOOK_SIZE), CodebookUsage(CODEBOOK_SIZE)
    for row in indices:
        checked.update(row)
        unchecked.update(row.int(), check_range=False)
    assert torch.equal(unchecked.counts, checked.counts)
    for bad in ([3, 10], [-1]):
        with pytest.raises(IndexError):
            CodebookUsage(10).update(torch.tensor(bad), check_range=False)


def test_bad_indices():
    usage = CodebookUsage(10)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        usage.update(torch.tensor([3, 10]))
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        usage.update(torch.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        usage.update(torch.tensor([1.0]))
    with pytest.raises(ValueError, match="positive integer"):
        CodebookUsage(0)


def _rank_indices(rank: int) -> torch.Tensor:
    return torch.arange(rank * 5, rank * 5 + 7 + rank)  # overlapping, different lengths per rank


def _rank_latents(rank: int) -> torch.Tensor:
    return torch.randn(6 + rank, 3, generator=torch.Generator().manual_seed(10 + rank))


def _ddp_worker(rank: int, world_size: int, init_file: str, results) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        usage = CodebookUsage(CODEBOOK_SIZE)
        usage.update(_rank_indices(rank))
        quantizer = VectorQuantizer(8, 3, decay=0.5).train()
        quantizer(_rank_latents(rank))
        restarting = VectorQuantizer(8, 3, dead_code_threshold=1e9).train()  # every code is dead
        restarting(_rank_latents(rank))
        results[rank] = (usage.compute(), quantizer.codebook.clone(), restarting.codebook.clone())
    finally:
        dist.destroy_process_group()


def test_statistics_and_ema_are_reduced_over_ranks(tmp_path):
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_ddp_worker, args=(2, str(tmp_path / "init"), results), nprocs=2, join=True)
        results = dict(results)
    single = CodebookUsage(CODEBOOK_SIZE)
    single.update(torch.cat([_rank_indices(0), _rank_indices(1)]))
    expected = single.compute()
    reference = VectorQuantizer(8, 3, decay=0.5).train()
    reference(torch.cat([_rank_latents(0), _rank_latents(1)]))
    for rank in (0, 1):
        stats, codebook, _ = results[rank]
        assert stats == pytest.approx(expected)
        torch.testing.assert_close(codebook, reference.codebook)
    assert torch.equal(results[1][2], results[0][2])  # rank 1 restarted with rank 0's replacements, broadcast
    rank0_rows = _rank_latents(0)
    assert all((rank0_rows == row).all(dim=1).any() for row in results[0][2])
