"""Tests of the extended binary Golay code: structure, canonical order, decoders."""
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattices import golay

codeword_indices = st.integers(0, 4095)
error_sets = st.lists(st.integers(0, 23), min_size=0, max_size=3, unique=True)


def test_generator_has_full_rank_and_spans_the_codewords():
    generator = golay.generator_matrix()
    assert generator.shape == (12, 24)
    messages = (np.arange(4096)[:, None] >> np.arange(12)) & 1
    spanned = (messages @ generator.astype(np.int64)) % 2
    assert len(np.unique(spanned, axis=0)) == 4096
    assert set(golay.index_of(spanned).tolist()) == set(range(4096))


def test_first_23_positions_form_the_cyclic_quadratic_residue_code():
    residues = sorted({(i * i) % 23 for i in range(1, 23)})
    assert len(residues) == 11
    punctured = {tuple(word[:23]) for word in golay.codewords()}
    for word in list(punctured)[:200]:
        assert tuple(np.roll(word, 1)) in punctured
    indicator = np.zeros(23, dtype=np.uint8)
    indicator[residues] = 1
    assert tuple(indicator) in punctured


def test_codewords_are_sorted_by_their_integer_and_unique():
    ints = golay.codeword_ints()
    assert ints.shape == (4096,) and np.all(np.diff(ints) > 0)
    assert np.array_equal((golay.codewords().astype(np.int64) << np.arange(24)).sum(axis=1), ints)


def test_weight_enumerator():
    assert golay.weight_enumerator() == {0: 1, 8: 759, 12: 2576, 16: 759, 24: 1}


def test_code_is_linear_and_self_dual():
    words = golay.codewords().astype(np.int64)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4096, size=(2, 2000))
    assert golay.is_codeword((words[a] + words[b]) % 2).all()
    assert not ((words @ words.T) % 2).any()  # every pair of codewords is orthogonal
    check = golay.parity_check_matrix()
    assert check.shape == (12, 24) and not ((check @ words.T) % 2).any()


def test_minimum_distance_is_8():
    weights = golay.codewords().sum(axis=1)
    assert weights[weights > 0].min() == golay.MIN_DISTANCE == 8


def test_octads_form_a_steiner_system_s_5_8_24():
    octads = golay.octads()
    assert octads.shape == (759, 8)
    assert np.all(np.diff(octads, axis=1) > 0)
    words = golay.codewords()[golay.octad_codeword_indices()]
    assert np.array_equal(np.nonzero(words)[1].reshape(-1, 8), octads)
    five_sets = {subset for octad in octads.tolist() for subset in combinations(octad, 5)}
    assert len(five_sets) == 759 * 56 == 42_504  # = C(24, 5): each 5-set in exactly one octad


@settings(max_examples=60, deadline=None)
@given(index=codeword_indices, errors=error_sets)
def test_hard_decoding_corrects_up_to_three_errors(index, errors):
    word = golay.codewords()[index].copy()
    received = word.copy()
    received[errors] ^= 1
    assert np.array_equal(golay.decode_hard(received), word)


def test_hard_decoding_of_four_errors_stays_at_distance_four():
    rng = np.random.default_rng(1)
    words = golay.codewords()[rng.integers(0, 4096, 50)]
    received = words.copy()
    for row in received:
        row[rng.choice(24, 4, replace=False)] ^= 1
    decoded = golay.decode_hard(received)
    assert golay.is_codeword(decoded).all()
    assert np.all((decoded != received).sum(axis=1) == 4)


@settings(max_examples=40, deadline=None)
@given(index=codeword_indices, seed=st.integers(0, 2**32 - 1))
def test_soft_decoding_maximises_the_correlation(index, seed):
    rng = np.random.default_rng(seed)
    signal = 1.0 - 2.0 * golay.codewords()[index] + 0.3 * rng.standard_normal(24)
    decoded = int(golay.decode_soft(signal))
    correlations = (1.0 - 2.0 * golay.codewords()) @ signal
    assert correlations[decoded] == correlations.max()
    assert golay.decode_soft(1.0 - 2.0 * golay.codewords()[index].astype(float)) == index


def test_decoders_keep_batch_shapes():
    words = golay.codewords()[:6].reshape(2, 3, 24)
    assert golay.decode_hard(words).shape == (2, 3, 24)
    assert golay.decode_soft(1.0 - 2.0 * words).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert golay.index_of(words).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_non_codewords_are_detected():
    word = golay.codewords()[100].copy()
    word[5] ^= 1
    assert not golay.is_codeword(word)
    with pytest.raises(ValueError, match="not Golay codewords"):
        golay.index_of(word)


@pytest.mark.parametrize("call, error", [
    (lambda: golay.decode_hard(np.zeros(23, dtype=np.uint8)), ValueError),
    (lambda: golay.decode_hard(np.full(24, 2)), ValueError),
    (lambda: golay.decode_hard(np.zeros(24)), TypeError),
    (lambda: golay.decode_hard(np.zeros((0, 24), dtype=np.uint8)), ValueError),
    (lambda: golay.decode_soft(np.zeros(24, dtype=np.int64)), TypeError),
    (lambda: golay.decode_soft(np.full(24, np.nan)), ValueError),
    (lambda: golay.decode_soft(np.zeros((0, 24))), ValueError),
    (lambda: golay.is_codeword(np.zeros(25, dtype=np.uint8)), ValueError),
])
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()
