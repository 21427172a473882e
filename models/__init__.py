"""Tokenizer and generator models, losses and optimizers."""
