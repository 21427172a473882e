"""Report commands that analyse trained tokenizers (`slq posthoc-geometry`)."""
