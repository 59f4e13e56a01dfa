"""Position sets imported from EPD/FEN files (a coach's own exercises)."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def set_positions(db: sqlite_utils.Database, set_id: int, *, answered_only: bool = False) -> list[dict[str, Any]]:
    """Rows of a set's positions, in file order; ``answered_only`` keeps those with best moves."""
    sql = "SELECT * FROM set_positions WHERE set_id = ?"
    if answered_only:
        sql += " AND best_moves != ''"
    return [dict(r) for r in db.query(sql + " ORDER BY id", [set_id])]
