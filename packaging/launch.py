"""Entry point of the bundled application (PyInstaller runs this file as __main__)."""

from conceptcoach.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
