"""The attempt log, the study log and the log of learning tries: append-only records of
what a player did.

Each answer is one row committed in its own transaction, so a process killed in the
middle of a session loses no answer that was acknowledged. The database refuses
UPDATE and DELETE on all three tables (triggers in schema_study.py). Everything the
statistics and the review queue report is recomputed from these rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import chess
import sqlite_utils
from conceptcoach.store.db import transaction


def position_key(fen: str) -> str:
    """A FEN without its move counters, in canonical form: the same position reached at
    another move number, or written by another program (an en-passant square with no
    capture possible, stale castling rights), is the same position for a player."""
    # A board python-chess cannot read is compared as the text given.
    with contextlib.suppress(ValueError):
        fen = chess.Board(fen).fen(en_passant="legal")
    return " ".join(fen.split()[:4])


@dataclass(frozen=True)
class NewAttempt:
    session_id: int
    item_id: int | None
    player_id: int
    phase: str
    concept_id: int | None
    is_control: bool
    fen: str
    expected: tuple[str, ...]
    answer_uci: str  # '' when no move was given
    answer_san: str
    correct: bool
    value_drop: float | None = None
    visit_share: float | None = None
    partial_credit: float | None = None
    response_ms: int | None = None
    hints: int = 0
    network_id: int | None = None


@dataclass(frozen=True)
class Attempt(NewAttempt):
    id: int = 0
    answered_at: str = ""


@dataclass(frozen=True)
class Studied:
    id: int
    session_id: int
    item_id: int | None
    player_id: int
    concept_id: int | None
    is_control: bool
    fen: str
    study_ms: int | None
    studied_at: str


class AlreadyDone(Exception):
    """The item was answered (or studied) already; the log keeps the first record."""


_COLUMNS = ("session_id", "item_id", "player_id", "phase", "concept_id", "is_control", "fen", "expected",
            "answer_uci", "answer_san", "correct", "value_drop", "visit_share", "partial_credit",
            "response_ms", "hints", "network_id")


def attempt_from_row(row: dict[str, Any]) -> Attempt:
    return Attempt(
        id=int(row["id"]), session_id=int(row["session_id"]), item_id=row["item_id"],
        player_id=int(row["player_id"]), phase=row["phase"], concept_id=row["concept_id"],
        is_control=bool(row["is_control"]), fen=row["fen"], expected=tuple(str(row["expected"]).split()),
        answer_uci=row["answer_uci"] or "", answer_san=row["answer_san"] or "", correct=bool(row["correct"]),
        value_drop=row["value_drop"], visit_share=row["visit_share"], partial_credit=row["partial_credit"],
        response_ms=row["response_ms"], hints=int(row["hints"] or 0), network_id=row["network_id"],
        answered_at=row["answered_at"],
    )


def append_attempt(db: sqlite_utils.Database, new: NewAttempt, *, once_per_item: bool = True) -> Attempt:
    """Append one answer and commit it before returning.

    With ``once_per_item`` (test phases) a second answer to the same item raises
    :class:`AlreadyDone`; the check and the insert share one write transaction, so two
    windows on the same session cannot both record an answer.
    """
    values = {c: getattr(new, c) for c in _COLUMNS}
    values["expected"] = " ".join(new.expected)
    values["is_control"] = int(new.is_control)
    values["correct"] = int(new.correct)
    with transaction(db, immediate=True) as conn:
        if once_per_item and new.item_id is not None:
            hit = conn.execute("SELECT id FROM attempts WHERE item_id = ? AND phase = ?",
                               (new.item_id, new.phase)).fetchone()
            if hit:
                raise AlreadyDone(f"item {new.item_id} of session {new.session_id} was answered already "
                                  f"(attempt {hit[0]}); the first answer is kept")
        cur = conn.execute(
            f"INSERT INTO attempts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            [values[c] for c in _COLUMNS],
        )
        attempt_id = int(cur.lastrowid or 0)
    rows = list(db.query("SELECT * FROM attempts WHERE id = ?", [attempt_id]))
    return attempt_from_row(rows[0])


def list_attempts(
    db: sqlite_utils.Database,
    *,
    session_ids: Sequence[int] | None = None,
    player_ids: Sequence[int] | None = None,
    phases: Sequence[str] | None = None,
) -> list[Attempt]:
    """Attempts in log order (by id), optionally filtered."""
    where: list[str] = ["1=1"]
    args: list[object] = []
    for col, vals in (("session_id", session_ids), ("player_id", player_ids), ("phase", phases)):
        if vals is not None:
            where.append(f"{col} IN ({','.join('?' * len(vals))})" if vals else "0")
            args.extend(vals)
    sql = f"SELECT * FROM attempts WHERE {' AND '.join(where)} ORDER BY id"
    return [attempt_from_row(r) for r in db.query(sql, args)]


def append_studied(
    db: sqlite_utils.Database,
    *,
    session_id: int,
    item_id: int,
    player_id: int,
    concept_id: int | None,
    is_control: bool,
    fen: str,
    study_ms: int | None = None,
) -> Studied:
    """Record that a learning item was studied (committed before returning); a second
    record for the same item raises :class:`AlreadyDone`."""
    with transaction(db, immediate=True) as conn:
        hit = conn.execute("SELECT id FROM studied WHERE item_id = ?", (item_id,)).fetchone()
        if hit:
            raise AlreadyDone(f"item {item_id} of session {session_id} was studied already")
        cur = conn.execute(
            "INSERT INTO studied (session_id, item_id, player_id, concept_id, is_control, fen, study_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, item_id, player_id, concept_id, int(is_control), fen, study_ms),
        )
        sid = int(cur.lastrowid or 0)
    return list_studied(db, ids=[sid])[0]


def list_studied(
    db: sqlite_utils.Database,
    *,
    session_ids: Sequence[int] | None = None,
    player_ids: Sequence[int] | None = None,
    ids: Sequence[int] | None = None,
) -> list[Studied]:
    where: list[str] = ["1=1"]
    args: list[object] = []
    for col, vals in (("session_id", session_ids), ("player_id", player_ids), ("id", ids)):
        if vals is not None:
            where.append(f"{col} IN ({','.join('?' * len(vals))})" if vals else "0")
            args.extend(vals)
    rows = db.query(f"SELECT * FROM studied WHERE {' AND '.join(where)} ORDER BY id", args)
    return [Studied(id=int(r["id"]), session_id=int(r["session_id"]), item_id=r["item_id"],
                    player_id=int(r["player_id"]), concept_id=r["concept_id"], is_control=bool(r["is_control"]),
                    fen=r["fen"], study_ms=r["study_ms"], studied_at=r["studied_at"]) for r in rows]


@dataclass(frozen=True)
class NewTry:
    """A move the player tried in a learning position, scored against the teacher's search."""

    session_id: int
    item_id: int | None
    player_id: int
    concept_id: int | None
    is_control: bool
    fen: str
    expected: tuple[str, ...]
    answer_uci: str
    answer_san: str
    correct: bool
    value_drop: float | None = None
    visit_share: float | None = None
    partial_credit: float | None = None
    response_ms: int | None = None


@dataclass(frozen=True)
class LearningTry(NewTry):
    id: int = 0
    tried_at: str = ""


_TRY_COLUMNS = ("session_id", "item_id", "player_id", "concept_id", "is_control", "fen", "expected", "answer_uci",
                "answer_san", "correct", "value_drop", "visit_share", "partial_credit", "response_ms")


def _try_from_row(row: dict[str, Any]) -> LearningTry:
    return LearningTry(
        id=int(row["id"]), session_id=int(row["session_id"]), item_id=row["item_id"],
        player_id=int(row["player_id"]), concept_id=row["concept_id"], is_control=bool(row["is_control"]),
        fen=row["fen"], expected=tuple(str(row["expected"]).split()), answer_uci=row["answer_uci"],
        answer_san=row["answer_san"], correct=bool(row["correct"]), value_drop=row["value_drop"],
        visit_share=row["visit_share"], partial_credit=row["partial_credit"], response_ms=row["response_ms"],
        tried_at=row["tried_at"],
    )


def append_try(db: sqlite_utils.Database, new: NewTry) -> LearningTry:
    """Append one learning try and commit it before returning (a player may try as many
    moves as they like in one position: every one is kept)."""
    values = {c: getattr(new, c) for c in _TRY_COLUMNS}
    values["expected"] = " ".join(new.expected)
    values["is_control"] = int(new.is_control)
    values["correct"] = int(new.correct)
    with transaction(db, immediate=True) as conn:
        cur = conn.execute(
            f"INSERT INTO learning_tries ({', '.join(_TRY_COLUMNS)}) VALUES ({', '.join('?' * len(_TRY_COLUMNS))})",
            [values[c] for c in _TRY_COLUMNS],
        )
        try_id = int(cur.lastrowid or 0)
    return list_tries(db, ids=[try_id])[0]


def list_tries(
    db: sqlite_utils.Database,
    *,
    session_ids: Sequence[int] | None = None,
    player_ids: Sequence[int] | None = None,
    item_ids: Sequence[int] | None = None,
    ids: Sequence[int] | None = None,
) -> list[LearningTry]:
    """Learning tries in log order (by id), optionally filtered."""
    where: list[str] = ["1=1"]
    args: list[object] = []
    for col, vals in (("session_id", session_ids), ("player_id", player_ids), ("item_id", item_ids), ("id", ids)):
        if vals is not None:
            where.append(f"{col} IN ({','.join('?' * len(vals))})" if vals else "0")
            args.extend(vals)
    rows = db.query(f"SELECT * FROM learning_tries WHERE {' AND '.join(where)} ORDER BY id", args)
    return [_try_from_row(r) for r in rows]


def seen_positions(db: sqlite_utils.Database, player_ids: Iterable[int], *, planned: bool = True) -> set[str]:
    """Position keys (:func:`position_key`) the players answered or studied in any session,
    and with ``planned`` also those of items planned in their sessions (so two open
    sessions of one player never share a position)."""
    ids = list(player_ids)
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    fens = [r[0] for r in db.execute(f"SELECT fen FROM attempts WHERE player_id IN ({marks})", ids)]
    fens += [r[0] for r in db.execute(f"SELECT fen FROM studied WHERE player_id IN ({marks})", ids)]
    if planned:
        fens += [r[0] for r in db.execute(
            f"SELECT i.fen FROM session_items i JOIN sessions s ON s.id = i.session_id WHERE s.player_id IN ({marks})",
            ids)]
    return {position_key(f) for f in fens}


def tested_positions(db: sqlite_utils.Database, player_ids: Iterable[int]) -> set[str]:
    """Position keys the players answered in a test phase (pre, post, review)."""
    ids = list(player_ids)
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT fen FROM attempts WHERE player_id IN ({marks}) AND phase IN ('pre','post','review')", ids)
    return {position_key(r[0]) for r in rows}
