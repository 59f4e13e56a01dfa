"""The coach's notes, attached to a session and optionally a prototype, with the arrows
and marked squares the coach drew on that position (schema v7).

Marks are stored in a form a person can read: arrows as from-to square pairs in UCI
style (``"e2e4"``), squares by name (``"d5"``). A learning position's note is one row
per session and prototype (:func:`save_position_note` replaces it), so reopening the
position shows what was written and drawn there last.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import chess
import sqlite_utils
from conceptcoach.store.db import transaction


@dataclass(frozen=True)
class Note:
    id: int
    session_id: int | None
    prototype_id: int | None
    text: str
    written_at: str
    arrows: tuple[str, ...] = ()  # "e2e4": an arrow from e2 to e4
    squares: tuple[str, ...] = ()  # "d5": a marked square

    @property
    def has_marks(self) -> bool:
        return bool(self.arrows or self.squares)


def _clean_arrows(arrows: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for a in arrows:
        a = a.strip().lower()
        if len(a) != 4 or a[:2] not in chess.SQUARE_NAMES or a[2:] not in chess.SQUARE_NAMES or a[:2] == a[2:]:
            raise ValueError(f"{a!r} is not an arrow between two squares (write it as 'e2e4')")
        if a not in out:
            out.append(a)
    return tuple(out)


def _clean_squares(squares: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for s in squares:
        s = s.strip().lower()
        if s not in chess.SQUARE_NAMES:
            raise ValueError(f"{s!r} is not a square name (write it as 'd5')")
        if s not in out:
            out.append(s)
    return tuple(sorted(out, key=chess.SQUARE_NAMES.index))


def _marks_text(arrows: tuple[str, ...], squares: tuple[str, ...]) -> str:
    if not arrows and not squares:
        return ""
    return json.dumps({"arrows": list(arrows), "squares": list(squares)})


def _note(row: dict[str, Any]) -> Note:
    marks: dict[str, Any] = {}
    if row.get("marks"):
        try:
            marks = json.loads(row["marks"])
        except ValueError:
            marks = {}  # a hand-edited store: the text is kept, the marks are dropped
    return Note(row["id"], row["session_id"], row["prototype_id"], row["text"], row["written_at"],
                tuple(marks.get("arrows", ())), tuple(marks.get("squares", ())))


def add_note(db: sqlite_utils.Database, text: str, *, session_id: int | None = None,
             prototype_id: int | None = None, arrows: Sequence[str] = (), squares: Sequence[str] = ()) -> Note:
    """Store a note. Blank text is refused unless the note carries marks (a caller should
    not write empty notes); a malformed arrow or square raises ValueError."""
    clean = text.strip()
    arrows_t, squares_t = _clean_arrows(arrows), _clean_squares(squares)
    if not clean and not arrows_t and not squares_t:
        raise ValueError("a note needs some text or some marks")
    with db.conn:
        cur = db.conn.execute("INSERT INTO notes (session_id, prototype_id, text, marks) VALUES (?, ?, ?, ?)",
                              (session_id, prototype_id, clean, _marks_text(arrows_t, squares_t)))
    return _note(next(iter(db.query("SELECT * FROM notes WHERE id = ?", [cur.lastrowid]))))


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
    return [_note(r) for r in rows]


def position_note(db: sqlite_utils.Database, prototype_id: int, *, session_id: int | None = None) -> Note | None:
    """The newest note on a prototype's position (in ``session_id`` when given), or None."""
    notes = list_notes(db, session_id=session_id, prototype_id=prototype_id)
    return notes[-1] if notes else None


def save_position_note(db: sqlite_utils.Database, *, session_id: int, prototype_id: int, text: str,
                       arrows: Sequence[str] = (), squares: Sequence[str] = ()) -> Note | None:
    """The coach's note and marks on a learning position of a session: replaces what the
    session held for that position; blank text without marks removes it (returns None)."""
    clean = text.strip()
    arrows_t, squares_t = _clean_arrows(arrows), _clean_squares(squares)
    with transaction(db, immediate=True) as conn:
        old = conn.execute("SELECT id FROM notes WHERE session_id = ? AND prototype_id = ? ORDER BY id DESC",
                              (session_id, prototype_id)).fetchall()
        if not clean and not arrows_t and not squares_t:
            conn.executemany("DELETE FROM notes WHERE id = ?", [(r[0],) for r in old])
            return None
        marks = _marks_text(arrows_t, squares_t)
        if old:
            note_id = old[0][0]
            conn.execute("UPDATE notes SET text = ?, marks = ?, written_at = datetime('now') WHERE id = ?",
                            (clean, marks, note_id))
            # One note per session and position: older duplicates (written before v7) go.
            conn.executemany("DELETE FROM notes WHERE id = ?", [(r[0],) for r in old[1:]])
        else:
            note_id = conn.execute("INSERT INTO notes (session_id, prototype_id, text, marks) VALUES (?, ?, ?, ?)",
                                      (session_id, prototype_id, clean, marks)).lastrowid
    return _note(next(iter(db.query("SELECT * FROM notes WHERE id = ?", [note_id]))))
