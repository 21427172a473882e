"""Torch quantizer layers built on the codebooks of `lattices`."""
