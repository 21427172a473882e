"""Command-line entry points: tables, training and evaluation."""
