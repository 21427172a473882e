"""FD-FMNIST and k-NN precision/recall on the packaged classifier's features of real Fashion-MNIST images."""
import numpy as np
import pytest
import torch

from models.data.fashion_mnist import load_fashion_mnist
from models.metrics.fmnist_classifier import classifier_input, load_classifier
from models.metrics.fmnist_generation import sample_labels
from models.metrics.fmnist_training import predict
from models.metrics.frechet import frechet_distance
from models.metrics.precision_recall import precision_recall
from tests.shared_data import shared_data


@pytest.fixture(scope="module")
def test_images() -> torch.Tensor:
    images, _ = load_fashion_mnist(shared_data("fashion-mnist"), "test")
    return classifier_input(images[:1000])


def _features(images_N1HW: torch.Tensor) -> torch.Tensor:
    return predict(load_classifier()[0], images_N1HW)[0]


def test_fd_fmnist_of_a_set_with_itself_is_zero_and_grows_with_noise(test_images):
    features = _features(test_images)
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(test_images.shape, generator=generator)
    distances = [frechet_distance(features, _features((test_images + sigma * noise).clamp(0, 1)))
                 for sigma in (0.05, 0.15, 0.4)]
    assert frechet_distance(features, features) < 1e-6 * distances[0]
    assert 0 < distances[0] < distances[1] < distances[2]


def test_precision_and_recall_of_identical_feature_sets_are_one(test_images):
    features = _features(test_images[:300])
    assert precision_recall(features, features.clone(), k=3) == {"precision": 1.0, "recall": 1.0}


@pytest.mark.parametrize("labels, error, message", [
    (np.zeros(3, np.float32), TypeError, "integers"),
    (np.zeros((3, 1), np.int64), ValueError, r"shape \(3,\)"),
    (np.array([0, 10, 2]), ValueError, "0-9"),
    (np.array([0, -1, 2]), ValueError, "0-9"),
])
def test_sample_labels_are_checked(labels, error, message):
    with pytest.raises(error, match=message):
        sample_labels(labels, 3)
