"""Opening the SQLite store: location, WAL mode, schema version and migrations.

The store is the only shared state of the application (ARCHITECTURE.md). Every
stage reads what the previous one wrote, so a run can stop and resume. A database
written by a newer version of Concept Coach is refused, never silently changed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import sqlite_utils
from conceptcoach.store.schema import MIGRATIONS
from platformdirs import user_data_dir

DB_FILENAME = "conceptcoach.sqlite"
ENV_DATA_DIR = "CONCEPTCOACH_DATA_DIR"


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database, *, immediate: bool = False) -> Iterator[sqlite3.Connection]:
    """One explicit transaction on the store's connection (opened with isolation_level=None):
    committed when the block ends, rolled back on any exception, Ctrl-C included, which is
    then raised again. ``immediate`` takes the write lock at once (answers and plans: two
    processes must not both read 'not answered yet' and then both write)."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class StoreError(Exception):
    """A store that cannot be opened as asked; the message says which file and why."""


class NewerSchemaError(StoreError):
    """The database was written by a newer Concept Coach than this one."""


def default_data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the store: ``override``, else $CONCEPTCOACH_DATA_DIR, else the
    platform's user data folder."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("conceptcoach", "ConceptCoach"))


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    db: sqlite_utils.Database,
    migrations: Sequence[Callable[[sqlite_utils.Database], None]] = MIGRATIONS,
    path: str = "",
) -> int:
    """Bring ``db`` up to the newest schema; returns the version reached.

    Each migration runs in its own transaction with the version bump, so an
    interrupted upgrade leaves the database at the last complete version.
    """
    current = schema_version(db)
    latest = len(migrations)
    if current > latest:
        raise NewerSchemaError(
            f"{path or 'the database'} has schema version {current}, but this Concept Coach "
            f"only knows versions up to {latest}. It was written by a newer version; "
            "upgrade Concept Coach or choose another data folder (--data-dir). "
            "The file was left unchanged."
        )
    for version in range(current + 1, latest + 1):
        with transaction(db) as conn:
            migrations[version - 1](db)
            conn.execute(f"PRAGMA user_version = {version}")
    return latest


def open_store(path: str | os.PathLike[str] | None = None, *, data_dir: str | None = None) -> sqlite_utils.Database:
    """Open (creating and migrating if needed) the store.

    ``path`` is the database file; without it the file lives in :func:`default_data_dir`.
    Raises :class:`StoreError` for a file that is not a Concept Coach database and
    :class:`NewerSchemaError` for one from a newer version.
    """
    if path is None:
        folder = default_data_dir(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / DB_FILENAME
    path = Path(path)
    try:
        # isolation_level=None: we manage transactions explicitly (BEGIN/COMMIT).
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a Concept Coach database ({exc}). The file was left unchanged.") from exc
    try:
        migrate(db, path=str(path))
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: cannot be upgraded ({exc}). The file was left unchanged.") from exc
    except NewerSchemaError:
        conn.close()
        raise
    return db


def memory_store() -> sqlite_utils.Database:
    """A migrated in-memory store (for scripts; tests use real files)."""
    db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False))
    migrate(db)
    return db
