"""Exact lattice and spherical-code mathematics (numpy/numba/sympy; never imports torch)."""
