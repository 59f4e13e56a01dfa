"""Players and groups in the store: the people a coach (or a player alone) keeps.

Every function takes the database and plain values and returns dataclasses, so a GUI
worker thread, the CLI and a script share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils
from conceptcoach.store.db import transaction


@dataclass(frozen=True)
class Player:
    id: int
    name: str
    rating: int | None
    notes: str
    created_at: str


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    notes: str
    member_ids: tuple[int, ...]


def _player(row: dict[str, Any]) -> Player:
    return Player(id=int(row["id"]), name=row["name"], rating=row["rating"], notes=row["notes"],
                  created_at=row["created_at"])


def _clean_name(name: str, what: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError(f"a {what} name cannot be empty")
    return name


def add_player(db: sqlite_utils.Database, name: str, rating: int | None = None, notes: str = "") -> Player:
    """Add a player; names need not be unique (two pupils may share one)."""
    cur = db.execute("INSERT INTO players (name, rating, notes) VALUES (?, ?, ?)",
                     [_clean_name(name, "player"), rating, notes])
    return get_player(db, int(cur.lastrowid or 0))


def get_player(db: sqlite_utils.Database, player_id: int) -> Player:
    """The player with ``player_id``; raises KeyError if there is none."""
    rows = list(db.query("SELECT * FROM players WHERE id = ?", [player_id]))
    if not rows:
        raise KeyError(f"no player with id {player_id}")
    return _player(rows[0])


def find_player(db: sqlite_utils.Database, ref: str) -> Player:
    """A player by id (digits) or by exact name; raises KeyError if none or ambiguous."""
    if ref.isdigit():
        return get_player(db, int(ref))
    rows = list(db.query("SELECT * FROM players WHERE name = ? ORDER BY id", [ref]))
    if not rows:
        raise KeyError(f"no player named {ref!r}; add one with `conceptcoach player add {ref!r}`")
    if len(rows) > 1:
        ids = ", ".join(str(r["id"]) for r in rows)
        raise KeyError(f"several players are named {ref!r} (ids {ids}); use the id")
    return _player(rows[0])


def list_players(db: sqlite_utils.Database) -> list[Player]:
    return [_player(r) for r in db.query("SELECT * FROM players ORDER BY name, id")]


def update_player(
    db: sqlite_utils.Database,
    player_id: int,
    *,
    name: str | None = None,
    rating: int | None = None,
    notes: str | None = None,
    clear_rating: bool = False,
) -> Player:
    """Change a player's name, rating or notes (the attempt log refers to the id, so
    past results follow the player)."""
    current = get_player(db, player_id)
    db.execute(
        "UPDATE players SET name = ?, rating = ?, notes = ? WHERE id = ?",
        [_clean_name(name, "player") if name is not None else current.name,
         None if clear_rating else (rating if rating is not None else current.rating),
         notes if notes is not None else current.notes, player_id],
    )
    return get_player(db, player_id)


def delete_player(db: sqlite_utils.Database, player_id: int) -> None:
    """Remove a player who has no sessions. A player with sessions is kept: the attempt
    log is never rewritten; raises ValueError saying so."""
    get_player(db, player_id)
    n = db.execute("SELECT COUNT(*) FROM sessions WHERE player_id = ?", [player_id]).fetchone()[0]
    if n:
        raise ValueError(f"player {player_id} has {n} session(s) in the attempt log and cannot be deleted; "
                         "rename them or add a note instead")
    db.execute("DELETE FROM players WHERE id = ?", [player_id])


def add_group(db: sqlite_utils.Database, name: str, notes: str = "", member_ids: tuple[int, ...] = ()) -> Group:
    name = _clean_name(name, "group")
    if list(db.query("SELECT id FROM groups_ WHERE name = ?", [name])):
        raise ValueError(f"a group named {name!r} exists already")
    with transaction(db) as conn:
        cur = conn.execute("INSERT INTO groups_ (name, notes) VALUES (?, ?)", (name, notes))
        group_id = int(cur.lastrowid or 0)
        for pid in member_ids:
            conn.execute("INSERT OR IGNORE INTO group_members (group_id, player_id) VALUES (?, ?)", (group_id, pid))
    return get_group(db, group_id)


def get_group(db: sqlite_utils.Database, group_id: int) -> Group:
    rows = list(db.query("SELECT * FROM groups_ WHERE id = ?", [group_id]))
    if not rows:
        raise KeyError(f"no group with id {group_id}")
    members = tuple(int(r["player_id"]) for r in db.query(
        "SELECT player_id FROM group_members WHERE group_id = ? ORDER BY player_id", [group_id]))
    return Group(id=group_id, name=rows[0]["name"], notes=rows[0]["notes"], member_ids=members)


def list_groups(db: sqlite_utils.Database) -> list[Group]:
    return [get_group(db, int(r["id"])) for r in db.query("SELECT id FROM groups_ ORDER BY name")]


def add_to_group(db: sqlite_utils.Database, group_id: int, player_id: int) -> Group:
    get_group(db, group_id)
    get_player(db, player_id)
    db.execute("INSERT OR IGNORE INTO group_members (group_id, player_id) VALUES (?, ?)", [group_id, player_id])
    return get_group(db, group_id)


def remove_from_group(db: sqlite_utils.Database, group_id: int, player_id: int) -> Group:
    db.execute("DELETE FROM group_members WHERE group_id = ? AND player_id = ?", [group_id, player_id])
    return get_group(db, group_id)


def delete_group(db: sqlite_utils.Database, group_id: int) -> None:
    """Remove a group (its players stay)."""
    get_group(db, group_id)
    db.execute("DELETE FROM groups_ WHERE id = ?", [group_id])
