"""Evaluation commands of generated images: the Fashion-MNIST classifier and its generation scores."""
