"""Λ24-SQ specifics: exact digit labels for all 196,560 codewords, shape subsets, external file order."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lattices import leech
from quantizers import Leech24Quantizer
from tests.quantizers.cases import make

ALL_INDICES = torch.arange(leech.NUM_MINIMAL)


def test_digit_labels_round_trip_for_every_codeword():
    quantizer = make("leech24")
    digits = quantizer.indices_to_digits(ALL_INDICES)
    assert digits.dtype == torch.int64 and digits.shape == (leech.NUM_MINIMAL, 24)
    np.testing.assert_array_equal(digits.numpy() - 4, leech.minimal_vectors())
    assert int(digits.min()) == 0 and int(digits.max()) == 8
    assert torch.equal(quantizer.digits_to_indices(digits), ALL_INDICES)


def test_digits_are_exact_where_float_truncation_is_not():
    """The normalized fp32 codes times √32 truncated toward zero miss many coordinates; ours do not."""
    quantizer = make("leech24")
    codes = quantizer.indices_to_codes(ALL_INDICES)
    truncated = (codes * math.sqrt(32)).to(torch.int64) + 4
    digits = quantizer.indices_to_digits(ALL_INDICES)
    nonzero = digits != 4
    assert torch.equal(truncated != digits, nonzero)  # every non-zero coordinate truncates wrongly
    assert nonzero.float().mean().item() == pytest.approx(0.6653, abs=1e-4)
    assert torch.equal(quantizer.codes_to_indices(codes), ALL_INDICES)


def test_digits_to_indices_rejects_non_codewords():
    quantizer = make("leech24")
    digits = quantizer.indices_to_digits(torch.tensor([5, 100_000, 196_000]))
    broken = digits.clone()
    broken[0, 0] = 8 - broken[0, 0]  # flips a sign or moves a zero: not a minimal vector
    with pytest.raises(ValueError, match="not minimal vectors"):
        quantizer.digits_to_indices(broken)
    with pytest.raises(ValueError, match=r"labels must lie in"):
        quantizer.digits_to_indices(digits + 1)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 24\)"):
        quantizer.digits_to_indices(digits[:, :23])
    with pytest.raises(TypeError, match="integer"):
        quantizer.digits_to_indices(digits.float())
    with pytest.raises(ValueError, match="not minimal vectors"):
        quantizer.digits_to_indices(torch.full((1, 24), 4))  # the zero vector


@pytest.mark.parametrize("shapes, size", [(("octad",), 97_152), (("odd",), 98_304), (("pair",), 1_104),
                                          (("pair", "octad"), 98_256)])
def test_shape_subsets(shapes, size):
    quantizer = make("leech24", shapes=shapes)
    assert quantizer.codebook_size == size
    starts = {name: leech.SHAPE_OFFSETS[k] for k, name in enumerate(leech.SHAPE_NAMES)}
    kept = np.concatenate([np.arange(starts[name], starts[name] + count) for name, count in zip(
        leech.SHAPE_NAMES, (leech.SHAPE_OCTAD_COUNT, leech.SHAPE_ODD_COUNT, leech.SHAPE_PAIR_COUNT))
        if name in shapes])
    local = torch.arange(size)
    np.testing.assert_array_equal(quantizer.indices_to_digits(local).numpy() - 4, leech.minimal_vectors()[kept])
    sample = torch.cat([local[:50], local[-50:], torch.randint(size, (500,), generator=torch.Generator().manual_seed(0))])
    assert torch.equal(quantizer.digits_to_indices(quantizer.indices_to_digits(sample)), sample)
    outside = np.setdiff1d(np.arange(leech.NUM_MINIMAL), kept)[:3]
    with pytest.raises(ValueError, match="outside the selected shapes"):
        quantizer.digits_to_indices(torch.from_numpy(leech.minimal_vectors()[outside].astype(np.int64) + 4))


def test_bad_shape_options():
    with pytest.raises(ValueError, match="distinct names"):
        Leech24Quantizer(shapes=("octad", "octad"))
    with pytest.raises(ValueError, match="distinct names"):
        Leech24Quantizer(shapes=())
    with pytest.raises(TypeError, match="tuple of shape names"):
        Leech24Quantizer(shapes="pair")


def test_external_file_order_keeps_the_files_indices(tmp_path):
    permutation = np.random.default_rng(5).permutation(leech.NUM_MINIMAL)
    rows = leech.minimal_vectors()[permutation].astype(np.float32) / np.float32(math.sqrt(32))
    path = tmp_path / "published_leech.npy"
    np.save(path, rows)
    quantizer = Leech24Quantizer(codebook_file=path)
    file_rows = torch.arange(0, leech.NUM_MINIMAL, 997)
    torch.testing.assert_close(quantizer.indices_to_codes(file_rows), torch.from_numpy(rows[file_rows.numpy()]))
    z = torch.randn(40, 24, generator=torch.Generator().manual_seed(6))
    canonical = make("leech24")(z).indices
    out = quantizer(z)
    np.testing.assert_array_equal(permutation[out.indices.numpy()], canonical.numpy())
    assert torch.equal(quantizer.indices_to_codes(out.indices), out.quantized)
    assert torch.equal(quantizer.codes_to_indices(out.quantized), out.indices)
    assert torch.equal(quantizer.digits_to_indices(quantizer.indices_to_digits(file_rows)), file_rows)
    with pytest.raises(ValueError, match="cannot be combined"):
        Leech24Quantizer(codebook_file=path, shapes=("pair",))
    np.save(path, rows[:-1])
    with pytest.raises(ValueError, match="expected shape"):
        Leech24Quantizer(codebook_file=path)
