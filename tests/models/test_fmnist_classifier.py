"""The Fashion-MNIST classifier: input convention, deterministic training, sha256-checked weights."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models.data.fashion_mnist import load_fashion_mnist
from models.metrics.fmnist_classifier import (
    DEFAULT_WEIGHTS, DEFAULT_WEIGHTS_SHA256, FEATURE_DIM, classifier_input, load_classifier, save_classifier,
    sha256_sidecar,
)
from models.metrics.fmnist_training import TrainingSchedule, accuracy, augment, predict, train_classifier
from tests.shared_data import shared_data


def _random_images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)


def test_input_convention_scales_crops_and_mixes_grey_channels():
    images = _random_images(3)
    expected = torch.from_numpy(images).float().div(255).unsqueeze(1)
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2)), constant_values=7)
    assert torch.equal(classifier_input(images), expected)
    assert torch.equal(classifier_input(padded), expected)
    assert torch.equal(classifier_input(images[:, None]), expected)
    assert torch.allclose(classifier_input(np.repeat(images[:, None], 3, axis=1)), expected, atol=1e-6)
    assert torch.equal(classifier_input(expected.numpy()), expected)


@pytest.mark.parametrize("images, error, message", [
    (np.zeros((2, 30, 30), np.uint8), ValueError, "28x28 or 32x32"),
    (np.zeros((2, 28, 32), np.uint8), ValueError, "28x28 or 32x32"),
    (np.zeros((2, 2, 28, 28), np.uint8), ValueError, "1 or 3 channels"),
    (np.full((2, 28, 28), np.nan, np.float32), ValueError, "NaN"),
    (np.full((2, 28, 28), 1.5, np.float32), ValueError, r"\[0, 1\]"),
    (np.zeros((2, 28, 28), np.int16), TypeError, "uint8 or float"),
    (np.zeros((28, 28), np.uint8), ValueError, "shape"),
    (np.zeros((0, 28, 28), np.uint8), ValueError, "empty"),
])
def test_input_convention_rejects_bad_images(images, error, message):
    with pytest.raises(error, match=message):
        classifier_input(images)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_augmentation_flips_and_shifts_without_losing_a_centred_object(seed):
    images = torch.zeros(4, 1, 28, 28)
    images[:, :, 2:-2, 2:-2] = torch.rand(4, 1, 24, 24, generator=torch.Generator().manual_seed(seed))
    augmented = augment(images, torch.Generator().manual_seed(seed))
    assert augmented.shape == images.shape
    assert torch.equal(augmented.flatten(1).sort(dim=1).values, images.flatten(1).sort(dim=1).values)


def _small_training_set() -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.arange(64) % 10
    return classifier_input(_random_images(64)), labels


def test_training_is_deterministic_given_the_seed():
    images, labels = _small_training_set()
    schedule = TrainingSchedule(epochs=1, batch_size=32)
    states = [train_classifier(images, labels, schedule, seed, progress=False).state_dict() for seed in (3, 3, 4)]
    assert all(torch.equal(states[0][name], states[1][name]) for name in states[0])
    assert not torch.equal(states[0]["head.weight"], states[2]["head.weight"])
    assert not torch.are_deterministic_algorithms_enabled()


def test_training_rejects_mismatched_labels():
    images, labels = _small_training_set()
    with pytest.raises(ValueError, match="labels must be int64 of shape"):
        train_classifier(images, labels[:-1], progress=False)
    with pytest.raises(ValueError, match="labels must lie in 0-9"):
        train_classifier(images, labels + 5, progress=False)


def test_saved_weights_round_trip_and_a_changed_byte_is_refused(tmp_path):
    images, labels = _small_training_set()
    model = train_classifier(images, labels, TrainingSchedule(epochs=1, batch_size=32), progress=False)
    path = tmp_path / "classifier.safetensors"
    digest = save_classifier(model, path)
    loaded, loaded_digest = load_classifier(path)
    assert loaded_digest == digest and sha256_sidecar(path).read_text().split() == [digest, path.name]
    features, predictions = predict(loaded, images)
    assert features.shape == (64, FEATURE_DIM) and torch.equal(predictions, predict(model, images)[1])
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"classifier weights file {path} has sha256"):
        load_classifier(path)
    sha256_sidecar(path).unlink()
    with pytest.raises(FileNotFoundError, match="no sha256 file"):
        load_classifier(path)


def test_packaged_classifier_matches_its_recorded_sha256_and_test_accuracy():
    images, labels = load_fashion_mnist(shared_data("fashion-mnist"), "test")
    model, digest = load_classifier()
    assert DEFAULT_WEIGHTS.stat().st_size < 3_000_000 and digest == DEFAULT_WEIGHTS_SHA256
    assert accuracy(model, classifier_input(images), labels) == pytest.approx(0.9285, abs=5e-4)  # docs/metrics.md
