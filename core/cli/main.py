"""`conceptcoach` command line. With no sub-command it opens the desktop app.

Each group of sub-commands lives in a module of this package with a
``register(subparsers)`` function; this file only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Modules that add sub-commands; each has ``register(subparsers) -> None``.
COMMAND_MODULES: tuple[str, ...] = (
    "conceptcoach.cli.networks",
    "conceptcoach.cli.training",
    "conceptcoach.cli.discovery",
    "conceptcoach.cli.library",
    "conceptcoach.cli.study",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conceptcoach",
        description="Concept Coach: learn chess ideas from a self-taught network. "
        "Run without a command to open the desktop app.",
    )
    parser.add_argument("--data-dir", help="folder of the store (default: $CONCEPTCOACH_DATA_DIR or the user data folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _gui_only(args_list: list[str]) -> str | None:
    """'' or the --data-dir value when the command line names no sub-command (the app),
    None otherwise (help, a sub-command, or anything the full parser must judge)."""
    pre = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    pre.add_argument("--data-dir", default="")
    try:
        known, rest = pre.parse_known_args(args_list)
    except (argparse.ArgumentError, SystemExit):
        return None  # the full parser reports the mistake
    return None if rest else str(known.data_dir)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    gui_data_dir = _gui_only(args_list)
    if gui_data_dir is not None:
        # No sub-command: open the app before building the full parser, whose sub-command
        # modules import torch through their configs (2-3 s the app must not wait for).
        from conceptcoach.desktop.app import run_app

        return run_app(data_dir=gui_data_dir or None)
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        # Imported here so that the CLI never loads Qt.
        from conceptcoach.desktop.app import run_app

        return run_app(data_dir=args.data_dir)
    handler = args.handler
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted: work done so far is kept in the store; run the same command again to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
