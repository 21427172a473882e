"""The class-conditional next-scale generator: token cache, training, sampling."""
