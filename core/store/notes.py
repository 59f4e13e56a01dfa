"""The coach's free-text notes, attached to a session and optionally a prototype."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class Note:
    id: int
    session_id: int | None
    prototype_id: int | None
    text: str
    written_at: str


def add_note(db: sqlite_utils.Database, text: str, *, session_id: int | None = None,
             prototype_id: int | None = None) -> Note:
    """Store a note (blank text is refused: a caller should not write empty notes)."""
    clean = text.strip()
    if not clean:
        raise ValueError("a note needs some text")
    with db.conn:
        cur = db.conn.execute("INSERT INTO notes (session_id, prototype_id, text) VALUES (?, ?, ?)",
                              (session_id, prototype_id, clean))
    row = next(iter(db.query("SELECT * FROM notes WHERE id = ?", [cur.lastrowid])))
    return Note(row["id"], row["session_id"], row["prototype_id"], row["text"], row["written_at"])


def list_notes(db: sqlite_utils.Database, *, session_id: int | None = None,
               prototype_id: int | None = None) -> list[Note]:
    where, args = ["1=1"], []
    if session_id is not None:
        where.append("session_id = ?")
        args.append(session_id)
    if prototype_id is not None:
        where.append("prototype_id = ?")
        args.append(prototype_id)
    rows = db.query(f"SELECT * FROM notes WHERE {' AND '.join(where)} ORDER BY id", args)
    return [Note(r["id"], r["session_id"], r["prototype_id"], r["text"], r["written_at"]) for r in rows]
