"""Import runs and the problems they met (``import_errors``): one row per bad game or
bad line of a user's file, with the file, game number, line and reason.

PGN game imports keep their problems under their run id (so a resumed import shows
every problem of the file); position-set imports store theirs without a run id.

The writing functions run on the caller's connection and open no transaction of their
own: an importer wraps a batch (games, problems, resume point) in one
``store.db.transaction`` so that an interruption never leaves half a batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils
from conceptcoach.store.db import transaction


@dataclass(frozen=True)
class ImportProblem:
    """One bad game (or bad line): where it is and what is wrong with it."""

    file: str
    game_number: int  # 1-based position of the game in its file (0: not a game, e.g. an EPD line)
    line: int  # 1-based line where the problem was met (the game's first line if unknown)
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: game {self.game_number}: {self.reason}"


def add_import_errors(db: sqlite_utils.Database, run_id: str | None, problems: Iterable[ImportProblem]) -> None:
    """Store ``problems`` under ``run_id`` (None for a position-set import); a game
    number of 0 is stored as NULL (the problem is not in a game)."""
    db.conn.executemany(
        "INSERT INTO import_errors (run_id, file, game_number, line, reason) VALUES (?, ?, ?, ?, ?)",
        [(run_id, p.file, p.game_number or None, p.line, p.reason) for p in problems],
    )


def clear_import_errors(db: sqlite_utils.Database, run_id: str) -> None:
    """Forget the problems recorded by one import run (before it is run again from the start)."""
    db.execute("DELETE FROM import_errors WHERE run_id = ?", [run_id])


def forget_import_run(db: sqlite_utils.Database, run_id: str) -> None:
    """Delete an import run's record and its problems (its games stay)."""
    with transaction(db) as conn:
        conn.execute("DELETE FROM import_errors WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))


def import_errors(db: sqlite_utils.Database, run_id: str | None = None, *,
                  without_run: bool = False) -> list[ImportProblem]:
    """Stored problems in the order they were met: of every import, of one import run
    (``run_id``), or of the imports recorded without a run (``without_run``: position sets)."""
    sql = "SELECT file, game_number, line, reason FROM import_errors"
    args: list[str] = []
    if run_id is not None:
        sql += " WHERE run_id = ?"
        args.append(run_id)
    elif without_run:
        sql += " WHERE run_id IS NULL"
    return [ImportProblem(r["file"], int(r["game_number"] or 0), int(r["line"] or 0), r["reason"])
            for r in db.query(sql + " ORDER BY id", args)]
