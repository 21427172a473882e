"""The torch front end of the Λ24 nearest-minimal search: numba on CPU, Triton kernel (interpreted), fallback."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lattices.leech_search import nearest_minimal
from quantizers.kernels.leech_search import KernelConfig, TokenList, kernel_tables, leech_nearest_minimal
from tests.search_reference import blas_argmax

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_cpu_tensors_use_the_exact_numba_search():
    z = torch.randn(300, 24, generator=torch.Generator().manual_seed(0))
    indices = leech_nearest_minimal(z)
    assert indices.dtype == torch.int64 and indices.device == z.device
    np.testing.assert_array_equal(indices.numpy(), blas_argmax(z.numpy()))
    assert leech_nearest_minimal(z.reshape(3, 100, 24)).shape == (3, 100)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_float_dtypes_are_searched_exactly(dtype):
    z = torch.randn(64, 24, generator=torch.Generator().manual_seed(1)).to(dtype)
    expected = nearest_minimal(z.double().numpy())  # float16/bfloat16 widen exactly
    np.testing.assert_array_equal(leech_nearest_minimal(z).numpy(), expected)


def test_kernel_tables_are_consistent():
    tables = kernel_tables(torch.device("cpu"))
    masks = tables.codeword_masks.numpy().astype(np.int64)
    signs = tables.codeword_signs.numpy().astype(np.int64)
    np.testing.assert_array_equal(signs[:24], (1 - 2 * ((masks[:2048, None] >> np.arange(24)) & 1)).T)
    assert not signs[24:].any() and not tables.octad_members.numpy()[24:].any()
    np.testing.assert_array_equal(tables.octad_members.numpy()[:24].sum(axis=0), [8] * 759 + [0] * 9)
    np.testing.assert_array_equal(masks[::-1], (2**24 - 1) ^ masks)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"block_tokens": 24}, ValueError),
        ({"block_octads": 512}, ValueError),
        ({"slots": 0}, ValueError),
        ({"top": 1}, ValueError),
        ({"num_warps": 3}, ValueError),
        ({"screen_stages": 3}, ValueError),
        ({"screen_candidates": 5}, ValueError),
        ({"screen_top": 1}, ValueError),
        ({"screen_block_tokens": 512}, ValueError),
        ({"rescreen_block_tokens": 48}, ValueError),
        ({"precise_block_tokens": 8}, ValueError),
        ({"graphs": -1}, ValueError),
    ],
)
def test_kernel_config_rejects_bad_values(kwargs, error):
    with pytest.raises(error):
        KernelConfig(**kwargs)


@pytest.mark.parametrize(
    ("z", "error"),
    [
        (np.zeros((2, 24)), TypeError),
        (torch.zeros(2, 24, dtype=torch.int32), TypeError),
        (torch.full((2, 24), float("nan")), ValueError),
        (torch.full((2, 24), float("inf"), dtype=torch.float16), ValueError),
        (torch.zeros(2, 25), ValueError),
        (torch.zeros(0, 24), ValueError),
        (torch.full((1, 24), 2.0**1001, dtype=torch.float64), ValueError),
    ],
)
def test_bad_inputs_raise(z, error):
    with pytest.raises(error):
        leech_nearest_minimal(z)


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")
@pytest.mark.parametrize(
    ("ids", "count", "message"),
    [
        (torch.zeros(4, dtype=torch.int64), torch.zeros(1, dtype=torch.int64), "int32"),
        (torch.zeros(4, dtype=torch.int32), torch.zeros((), dtype=torch.int64), "shape"),
        (torch.zeros(2, dtype=torch.int32), torch.zeros(1, dtype=torch.int64), "room"),
    ],
)
def test_malformed_token_lists_raise(ids, count, message):
    from quantizers.kernels.leech_screen_triton import screen

    z = torch.zeros(4, 24)
    with pytest.raises(ValueError, match=message):
        screen(z, kernel_tables(z.device), KernelConfig(), out_N=torch.zeros(4, dtype=torch.int64),
               leftovers=TokenList(ids, count))


def test_unknown_backend_raises():
    with pytest.raises(ValueError, match="backend"):
        leech_nearest_minimal(torch.zeros(1, 24), backend="cuda")


def test_triton_backend_on_a_cpu_tensor_needs_the_interpreter(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="triton backend needs a CUDA tensor"):
        leech_nearest_minimal(torch.ones(1, 24), backend="triton")


# Runs in a fresh interpreter: TRITON_INTERPRET must be set before the kernel is defined.
_INTERPRETED_RUN = """
import json, numpy as np, torch
from lattices.leech_search import nearest_minimal
from quantizers.kernels.leech_search import KernelConfig, TokenList, kernel_tables, leech_nearest_minimal
from quantizers.kernels.leech_brute_force_triton import brute_force
from quantizers.kernels.leech_screen_triton import screen
from quantizers.kernels.leech_search_triton import launch
from tests.search_reference import adversarial_inputs, sequential_argmax
rng = np.random.default_rng(3)
batches = {
    "float32": torch.from_numpy(rng.standard_normal((40, 24)).astype(np.float32)),
    "float64 ties": torch.from_numpy(np.concatenate([v[:2] for v in adversarial_inputs(rng).values()])),
    "float16": torch.from_numpy(rng.standard_normal((16, 24))).half(),
}
config = KernelConfig(block_tokens=16, screen_block_tokens=16)
tables = kernel_tables(torch.device("cpu"))
report = {}
for name, z in batches.items():
    expected = nearest_minimal(z.double().numpy())
    entry = {}
    stages = {"survivor": lambda: launch(z, tables, config, precise=False),
              "precise": lambda: launch(z, tables, config, precise=True)}
    for candidates in (1, 2, 4):
        stages[f"screen{candidates}"] = lambda: screen(z, tables, config, candidates=candidates)
    for stage, run in stages.items():
        raw = run().numpy()
        entry[stage] = [int((raw >= 0).sum()), bool((raw[raw >= 0] == expected[raw >= 0]).all())]
    entry["final"] = bool((leech_nearest_minimal(z, backend="triton", config=config).numpy() == expected).all())
    report[name] = entry
ties = batches["float64 ties"].numpy()
report["brute force = B"] = [bool((brute_force(batches["float64 ties"], block_vectors=16384, programs=programs).numpy()
                                   == sequential_argmax(ties)).all()) for programs in (3, 1000)]  # alone, shared
tiny = KernelConfig(block_tokens=16, slots=1)
z = batches["float32"][:16]
report["slots=1"] = [int((launch(z, tables, tiny, precise=False) < 0).sum()),
                     bool((leech_nearest_minimal(z, backend="triton", config=tiny).numpy() == nearest_minimal(z.numpy())).all())]
z = batches["float32"]
expected = nearest_minimal(z.numpy())
def listed(*ids):  # a TokenList with room for 40 tokens; entries past the count are garbage
    room = torch.full((40,), 123456, dtype=torch.int32)
    room[:len(ids)] = torch.tensor(ids, dtype=torch.int32)
    return TokenList(room, torch.tensor([len(ids)], dtype=torch.int64))
out = torch.full((40,), -7, dtype=torch.int64)
leftovers = listed()
screen(z, tables, config, out_N=out, tokens=listed(5, 17, 33, 2, 11, 29, 38, 0), leftovers=leftovers, uncertain=-3)
launch(z, tables, config, precise=False, out_N=out, tokens=listed(6))
brute_force(z, out_N=out, tokens=listed(9), block_vectors=16384)
written = out.numpy()
marked = sorted(np.flatnonzero(written == -3).tolist())
report["gathered"] = [sorted(np.flatnonzero(written != -7).tolist()),
                      bool(all(written[i] in (expected[i], -3) for i in (5, 17, 33, 2, 11, 29, 38, 0))),
                      bool(written[6] == expected[6] and written[9] == expected[9]),
                      sorted(leftovers.ids[:int(leftovers.count)].tolist()) == marked]
before = int(leftovers.count)
screen(z, tables, config, out_N=out, tokens=listed(), leftovers=leftovers)  # an empty list: nothing happens
report["empty list"] = [bool((out.numpy() == written).all()), int(leftovers.count) == before]
heavy = torch.from_numpy(rng.standard_normal((40, 24)).astype(np.float32))
equal = adversarial_inputs(rng)["all |z_i| equal"]  # exact ties: never certified
heavy[:3 * len(equal):3] = torch.from_numpy(equal.astype(np.float32))
all_left = listed()
launch(heavy, tables, config, precise=False, leftovers=all_left)  # many uncertain tokens in several blocks
indices = launch(heavy, tables, config, precise=False)
report["appended all"] = sorted(all_left.ids[:int(all_left.count)].tolist()) == np.flatnonzero(indices.numpy() < 0).tolist()
broken = batches["float32"].clone()
broken[3, 5], broken[7, 0], broken[8] = float("nan"), float("inf"), -float("inf")
got = leech_nearest_minimal(broken, backend="triton", config=config, check_finite=False).numpy()
rest = np.setdiff1d(np.arange(40), [3, 7, 8])
report["non-finite"] = [bool(((got >= 0) & (got < 196560)).all()),
                        bool((got[rest] == nearest_minimal(broken.numpy()[rest])).all())]
import quantizers.kernels.leech_brute_force_triton as brute_module
import quantizers.kernels.leech_screen_triton as screen_module
import quantizers.kernels.leech_search_triton as kernel_module
syncs, in_kernel = [], [False]
def counted(name, function):
    def wrapper(*args, **kwargs):
        if not in_kernel[0]:
            syncs.append(name)
        return function(*args, **kwargs)
    return wrapper
def quiet(function):  # the interpreter itself reads tensors back
    def wrapper(*args, **kwargs):
        in_kernel[0] = True
        try:
            return function(*args, **kwargs)
        finally:
            in_kernel[0] = False
    return wrapper
kernel_module.launch = quiet(kernel_module.launch)
screen_module.screen = quiet(screen_module.screen)
brute_module.brute_force = quiet(brute_module.brute_force)
torch.nonzero = counted("nonzero", torch.nonzero)
for name in ("item", "nonzero", "tolist", "__bool__", "cpu", "numpy"):
    setattr(torch.Tensor, name, counted(name, getattr(torch.Tensor, name)))
for check_finite in (True, False):
    syncs.clear()
    leech_nearest_minimal(batches["float32"], backend="triton", config=config, check_finite=check_finite)
    report[f"syncs check_finite={check_finite}"] = list(syncs)
print(json.dumps(report))
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")
def test_triton_kernel_in_interpreter_matches_numba():
    environment = dict(os.environ, TRITON_INTERPRET="1")
    completed = subprocess.run([sys.executable, "-c", _INTERPRETED_RUN], cwd=REPO_ROOT, env=environment,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    for name in ("float32", "float64 ties", "float16"):  # certified indices are right, and so is the final answer
        entry = report[name]
        assert entry["final"] and all(entry[stage][1] for stage in ("survivor", "precise", "screen1", "screen2", "screen4")), entry
    assert report["float32"]["survivor"][0] == 40  # Gaussian inputs: all certified by the survivor kernel
    assert 30 <= report["float32"]["screen1"][0] <= report["float32"]["screen4"][0]  # ≈ 95 % with one candidate
    assert report["float64 ties"]["screen4"][0] < 18  # exact ties: some tokens need the brute force
    assert report["brute force = B"] == [True, True]  # one program per token, and tiles shared by programs
    overflowed, final_ok = report["slots=1"]
    assert overflowed > 0 and final_ok
    assert report["gathered"] == [[0, 2, 5, 6, 9, 11, 17, 29, 33, 38], True, True, True]  # only listed tokens
    assert report["empty list"] == [True, True]
    assert report["appended all"]  # the leftover list holds exactly the tokens marked uncertain
    assert report["non-finite"] == [True, True]  # in range, and the finite rows are unaffected
    assert report["syncs check_finite=True"] == ["item"]
    assert report["syncs check_finite=False"] == []
