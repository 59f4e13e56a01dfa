"""Position sets imported from EPD/FEN files (a coach's own exercises)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils
from conceptcoach.store.db import transaction


def set_positions(db: sqlite_utils.Database, set_id: int, *, answered_only: bool = False) -> list[dict[str, Any]]:
    """Rows of a set's positions, in file order; ``answered_only`` keeps those with best moves."""
    sql = "SELECT * FROM set_positions WHERE set_id = ?"
    if answered_only:
        sql += " AND best_moves != ''"
    return [dict(r) for r in db.query(sql + " ORDER BY id", [set_id])]


def get_or_add_set(db: sqlite_utils.Database, name: str, source_file: str = "") -> int:
    """The id of the set called ``name`` (whitespace stripped), created if new. Raises
    ValueError for a blank name."""
    name = name.strip()
    if not name:
        raise ValueError("a position set needs a name")
    row = next(iter(db.query("SELECT id FROM position_sets WHERE name = ?", [name])), None)
    if row is not None:
        return int(row["id"])
    with transaction(db) as conn:
        cur = conn.execute("INSERT INTO position_sets (name, source_file) VALUES (?, ?)", (name, source_file))
    return int(cur.lastrowid or 0)


def add_set_position(db: sqlite_utils.Database, set_id: int, fen: str, *, best_moves: Sequence[str] = (),
                     line: Sequence[str] = (), label: str = "", comment: str = "",
                     source_line: int | None = None) -> bool:
    """Add a position to a set; False when the set already holds this FEN (left as it is).
    Runs on the caller's connection without a transaction of its own (an import adds a
    file's positions in one)."""
    cur = db.conn.execute(
        "INSERT OR IGNORE INTO set_positions (set_id, fen, best_moves, line, label, comment, source_line)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (set_id, fen, " ".join(best_moves), " ".join(line), label, comment, source_line),
    )
    return cur.rowcount > 0


def position_sets(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Rows of every set (id, name, source_file, created_at) with ``n``, its number of
    positions, by id."""
    return [dict(r) for r in db.query(
        "SELECT s.*, (SELECT COUNT(*) FROM set_positions p WHERE p.set_id = s.id) AS n"
        " FROM position_sets s ORDER BY s.id")]
