"""Report commands: lattice and ablation tables, the post-hoc geometry ablation, and the lattice report's rows and plots."""
