"""Report commands: lattice and ablation tables, the post-hoc geometry ablation."""
