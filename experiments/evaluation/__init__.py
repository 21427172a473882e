"""Evaluation commands: image metrics (`slq eval`), and Fashion-MNIST generation scores with their classifier."""
