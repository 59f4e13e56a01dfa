"""Schema v8: what the human models say of an item, and why a plan chose it."""

from __future__ import annotations

import sqlite_utils


def migrate_v8_human_models(db: sqlite_utils.Database) -> None:
    # JSON {rating: probability that a player of that rating finds the teacher's move}.
    db.execute("ALTER TABLE prototypes ADD COLUMN human TEXT")
    # Why the plan chose the item (e.g. its find-probability at the player's rating).
    db.execute("ALTER TABLE session_items ADD COLUMN why TEXT NOT NULL DEFAULT ''")
