"""Benchmarks of the generator (`slq bench-generator`)."""
