"""Building blocks of the report subcommands (rows and plots of `slq lattice-report`)."""
