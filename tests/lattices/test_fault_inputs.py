"""Fault inputs to lattices/: out-of-range Leech coordinates, extreme row scales, Codebook arguments, corrupt .npy files."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattices import codebook_io, e8, leech, metrics, spherical
from lattices.codebook import Codebook, check_float_matrix, normalize_rows, row_norms

HEADER_FLIP_CODEBOOK = "e8-roots"  # 240×8 float64: a 128-byte .npy header before 15,360 data bytes


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, leech.NUM_MINIMAL - 1), position=st.integers(0, leech.DIM - 1),
       value=st.one_of(st.sampled_from([2**32, -2**32, 2**62, -2**63, 2**63 - 1, 5, -5]),
                       st.integers(-2**63, -5), st.integers(5, 2**63 - 1)))
def test_leech_vector_to_index_refuses_coordinates_beyond_4(index, position, value):
    vector = leech.minimal_vectors()[index].astype(np.int64)
    vector[position] = value  # 2^32 once wrapped the int64 norm back to 32 and returned garbage
    with pytest.raises(ValueError, match=r"outside \[-4, 4\]"):
        leech.vector_to_index(vector)


def test_leech_vector_to_index_refuses_unsigned_values_that_wrap_in_int64():
    vector = leech.minimal_vectors()[leech.SHAPE_OFFSETS[2]].astype(np.uint64)  # (4, 4, 0, ...)
    vector[5] = 2**64 - 1  # −1 after an int64 cast
    with pytest.raises(ValueError, match=r"outside \[-4, 4\]"):
        leech.vector_to_index(vector)


@settings(max_examples=40, deadline=None)
@given(exponent=st.integers(-290, 290), n=st.integers(2, 60), dim=st.integers(2, 9),
       seed=st.integers(0, 2**32 - 1))
def test_pair_statistics_do_not_depend_on_the_scale_of_the_rows(exponent, n, dim, seed):
    vectors = np.random.default_rng(seed).standard_normal((n, dim))
    scaled = vectors * 10.0**exponent  # 1e200 once gave δ_min 0.0, 1e-170 "contains zero rows"
    expected, stats = metrics.neighbour_statistics(vectors), metrics.neighbour_statistics(scaled)
    assert stats.delta_min == pytest.approx(expected.delta_min, rel=1e-9, abs=1e-12)
    assert stats.max_cosine == pytest.approx(expected.max_cosine, rel=1e-12, abs=1e-12)
    assert np.allclose(normalize_rows(scaled), normalize_rows(vectors), rtol=0, atol=4e-15)
    assert np.allclose(row_norms(scaled) / 10.0**exponent, np.linalg.norm(vectors, axis=1), rtol=1e-14)


@pytest.mark.parametrize("scale", [1e200, 1e-170, 1e-300])
def test_codebooks_of_tiny_and_huge_rows_are_normalized(scale):
    rows = spherical.random_code(30, 5, seed=1).vectors
    assert np.allclose(Codebook.from_float("scaled", rows * scale).vectors, rows, rtol=0, atol=1e-14)
    assert check_float_matrix(rows * scale).shape == rows.shape


def test_integer_rows_beyond_int64_squares_keep_their_norm():
    rows = np.array([[2**40, 0], [0, -2**40]])
    assert Codebook.from_integer("wide", rows).scale == 2.0**40  # was 0.0: the int64 square wrapped
    edge = Codebook.from_integer("edge", np.array([[-2**63, 0], [0, 1]]))  # |−2^63| was "a zero row"
    assert edge.scale is None and np.array_equal(edge.vectors, [[-1.0, 0.0], [0.0, 1.0]])
    assert metrics.delta_min(np.array([[2**40, 0], [0, 2**41]])) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError, match="too large for exact inner products"):
        metrics.neighbour_statistics(rows)  # one norm (exactly), but beyond exact float64 products


def test_functions_of_vectors_accept_a_codebook():
    assert metrics.delta_min(spherical.bsq(12)) == pytest.approx(2 / math.sqrt(12), rel=1e-15)
    stats = metrics.neighbour_statistics(spherical.e8_roots())
    assert stats.exact and stats.max_cosine == 0.5
    fibonacci = spherical.fibonacci(200, 4)
    assert metrics.max_cosine(fibonacci) == metrics.max_cosine(fibonacci.vectors)
    assert e8.is_member(spherical.e8_roots()).all()
    assert np.array_equal(leech.vector_to_index(spherical.leech_shell()), np.arange(leech.NUM_MINIMAL))
    with pytest.raises(TypeError, match="integer array"):
        leech.is_member(spherical.fibonacci(10, 24))  # no integer form
    with pytest.raises(TypeError, match="Codebook"):
        metrics.codebook_statistics(np.eye(3))


@pytest.mark.parametrize("scale", [1e200, 1e-170])
def test_a_leech_file_of_huge_or_tiny_rows_is_matched(tmp_path, scale):
    permutation = np.random.default_rng(3).permutation(leech.NUM_MINIMAL)
    path = tmp_path / "leech.npy"
    np.save(path, spherical.leech_shell().vectors[permutation] * scale)
    match = codebook_io.match_leech_file(path)
    assert np.array_equal(match.permutation, permutation)
    assert match.scale == pytest.approx(scale, rel=1e-12)


def test_every_npy_header_bit_flip_is_refused_or_harmless(tmp_path):
    codebook = spherical.by_name(HEADER_FLIP_CODEBOOK)
    original = codebook_io.save_codebook(codebook, tmp_path / "codebook.npy").read_bytes()
    header_bytes = 10 + int.from_bytes(original[8:10], "little")
    outcomes = {"refused": 0, "same vectors": 0}
    for bit in range(8 * header_bytes):
        flipped = bytearray(original)
        flipped[bit // 8] ^= 1 << (bit % 8)
        path = tmp_path / "flipped.npy"
        path.write_bytes(bytes(flipped))
        try:
            loaded = codebook_io.load_codebook(path)  # tokenize.TokenError escaped for some flips
        except ValueError:
            outcomes["refused"] += 1
            continue
        assert np.array_equal(loaded.vectors, codebook.vectors), f"bit {bit} changed the vectors"
        outcomes["same vectors"] += 1
    assert sum(outcomes.values()) == 8 * header_bytes and outcomes["refused"] > 0.99 * 8 * header_bytes


@pytest.mark.parametrize("shape", ["(1000000000, 24)", "(240, 9)", "(239, 8)", "(-1, 8)"])
def test_an_npy_header_whose_shape_disagrees_with_the_file_size_is_refused(tmp_path, shape):
    path = codebook_io.save_codebook(spherical.e8_roots(), tmp_path / "codebook.npy")
    raw = path.read_bytes()
    header_bytes = 10 + int.from_bytes(raw[8:10], "little")
    header = raw[10:header_bytes].decode("latin1").replace("(240, 8)", shape)
    header = header[:-1].rstrip().ljust(header_bytes - 11) + "\n"  # the same length, space-padded
    path.write_bytes(raw[:10] + header.encode("latin1") + raw[header_bytes:])
    with pytest.raises(ValueError, match="not a readable numeric .npy file"):  # was a MemoryError
        codebook_io.load_codebook(path)


def test_truncated_and_object_npy_files_are_refused(tmp_path):
    path = codebook_io.save_codebook(spherical.e8_roots(), tmp_path / "codebook.npy")
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(ValueError, match="bytes of data follow"):
        codebook_io.load_codebook(path)
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="Python objects"):
        codebook_io.load_codebook(path)


@pytest.mark.parametrize("s", [598, 1098, 10**6])
def test_generalized_golden_ratio_of_high_order_solves_its_equation(s):
    phi = spherical.generalized_golden_ratio(s)  # 2^(s+1) overflowed for s ≥ 1023, s = 598 was 1.69

    def excess(x):  # (s+1)·ln x − ln(1 + x): increasing on (1, 2), zero at φ_s
        return (s + 1) * math.log(x) - math.log1p(x)

    assert excess(phi - 4 * math.ulp(phi)) < 0 < excess(phi + 4 * math.ulp(phi))


@pytest.mark.parametrize("dim", [600, 1100])
def test_fibonacci_codes_in_high_dimensions(dim):
    vectors = spherical.fibonacci(10, dim).vectors  # OverflowError at 1100, "non-finite" at 600
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-12)
    assert len(np.unique(vectors, axis=0)) == 10
