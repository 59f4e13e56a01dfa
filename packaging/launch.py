"""Entry point of the bundled application (PyInstaller runs this file as __main__)."""

import multiprocessing

from conceptcoach.cli import main

if __name__ == "__main__":
    # The GUI runs torch work (bootstrap, discovery) in spawned child processes; in a frozen
    # bundle each child starts this executable again, and freeze_support() turns it into the
    # child instead of a second window.
    multiprocessing.freeze_support()
    raise SystemExit(main())
