"""Command-line commands, one module per pipeline stage (see ``analysis.cli``)."""
