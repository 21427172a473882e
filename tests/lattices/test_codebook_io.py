"""Tests of codebook files and of matching an external Λ24 file to the canonical order."""
import numpy as np
import pytest
import safetensors.numpy

from lattices import codebook_io, golay, leech, spherical


@pytest.fixture(scope="module")
def leech_unit():
    return spherical.leech_shell().vectors


@pytest.mark.parametrize("name", ["e8-shells12", "bsq-8", "fibonacci-n500-d5"])
@pytest.mark.parametrize("suffix", [".npy", ".safetensors"])
def test_codebooks_round_trip(tmp_path, name, suffix):
    codebook = spherical.by_name(name)
    path = codebook_io.save_codebook(codebook, tmp_path / f"{name}{suffix}")
    loaded = codebook_io.load_codebook(path)
    assert np.array_equal(loaded.vectors, codebook.vectors)
    assert loaded.name == name
    if suffix == ".safetensors":
        assert loaded.scale == codebook.scale
        if codebook.integer_vectors is None:
            assert loaded.integer_vectors is None
        else:
            assert np.array_equal(loaded.integer_vectors, codebook.integer_vectors)


@pytest.mark.parametrize("dtype, scale", [(np.float32, 0.37), (np.float64, 1.0), (np.float16, 2.0)])
def test_shuffled_scaled_leech_file_gives_back_the_permutation(tmp_path, leech_unit, dtype, scale):
    permutation = np.random.default_rng(7).permutation(leech.NUM_MINIMAL)
    rows = (scale * leech_unit[permutation]).astype(dtype)
    path = tmp_path / "leech.npy"
    np.save(path, rows)
    match = codebook_io.match_leech_file(path)
    assert np.array_equal(match.permutation, permutation)
    assert match.scale == pytest.approx(scale, rel=1e-3)
    restored = leech.minimal_vectors()[match.permutation] / np.sqrt(32) * match.scale
    assert np.abs(restored - rows).max() < 1e-2 * scale


def test_leech_safetensors_file_with_a_named_tensor(tmp_path, leech_unit):
    path = tmp_path / "leech.safetensors"
    reversed_rows = leech_unit[::-1].astype(np.float32)
    safetensors.numpy.save_file({"codebook": reversed_rows, "other": np.zeros(3)}, path)
    with pytest.raises(ValueError, match="no tensor 'vectors'"):
        codebook_io.match_leech_file(path)
    match = codebook_io.match_leech_file(path, key="codebook")
    assert np.array_equal(match.permutation, np.arange(leech.NUM_MINIMAL)[::-1])


def _octad_shape_row(support, minus_signs):
    vector = np.zeros(24)
    vector[support] = 2.0
    vector[support[:minus_signs]] = -2.0
    return vector / np.sqrt(32)


def _corrupt(leech_unit, kind):
    if kind == "shape":
        return leech_unit[:-1]
    if kind == "dtype":
        return leech.minimal_vectors().astype(np.int32)
    rows = leech_unit.astype(np.float32)
    if kind == "nan":
        rows[10, 3] = np.nan
    elif kind == "duplicate":
        rows[1] = rows[0]
    elif kind == "norm":
        rows[5] *= 1.5
    elif kind == "random-row":
        row = np.random.default_rng(0).standard_normal(24)
        rows[5] = row / np.linalg.norm(row)
    elif kind == "non-octad":
        support = np.arange(8)
        assert not any(set(octad) == set(support) for octad in golay.octads().tolist())
        rows[5] = _octad_shape_row(support, 0)
    elif kind == "odd-signs":
        rows[5] = _octad_shape_row(golay.octads()[0], 1)
    return rows


@pytest.mark.parametrize("kind, error, message", [
    ("shape", ValueError, "expected shape"),
    ("dtype", TypeError, "float"),
    ("nan", ValueError, "non-finite"),
    ("duplicate", ValueError, "duplicate"),
    ("norm", ValueError, "one norm"),
    ("random-row", ValueError, "not scaled integer"),
    ("non-octad", ValueError, "do not match the Λ24 first shell"),
    ("odd-signs", ValueError, "do not match the Λ24 first shell"),
])
def test_bad_leech_files_are_rejected(tmp_path, leech_unit, kind, error, message):
    path = tmp_path / "bad.npy"
    np.save(path, _corrupt(leech_unit, kind))
    with pytest.raises(error, match=message):
        codebook_io.match_leech_file(path)


@pytest.mark.parametrize("content, suffix, message", [
    (b"not a numpy file at all", ".npy", "not a readable numeric .npy"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{broken", ".safetensors", "not a readable safetensors"),
])
def test_corrupt_files_are_rejected(tmp_path, content, suffix, message):
    path = tmp_path / f"corrupt{suffix}"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        codebook_io.load_codebook(path)
    with pytest.raises(ValueError, match=message):
        codebook_io.match_leech_file(path)


def test_pickled_npy_and_wrong_paths_are_rejected(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not a readable numeric .npy"):
        codebook_io.load_codebook(path)
    with pytest.raises(FileNotFoundError):
        codebook_io.load_codebook(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match="must end in"):
        codebook_io.save_codebook(spherical.e8_roots(), tmp_path / "roots.pt")
    unnormalized = tmp_path / "scaled.npy"
    np.save(unnormalized, 2.0 * spherical.e8_roots().vectors)
    with pytest.raises(ValueError, match="unit norm"):
        codebook_io.load_codebook(unnormalized)
