"""GPU kernels (Triton) and their torch front ends for the quantizers."""
