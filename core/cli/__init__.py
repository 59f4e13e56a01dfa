"""The `conceptcoach` command line: one module per group of sub-commands.

Library packages never import this package; it calls them.
"""

from conceptcoach.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
