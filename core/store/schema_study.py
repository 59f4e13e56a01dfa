"""The study tables. Schema v2: players, groups, session plans and templates, the attempt
log, custom positions. Schema v5: the log of moves tried in learning positions.

The attempt log (``attempts``) and the study log (``studied``) are append-only: the
database itself refuses UPDATE and DELETE on them. A session's state (phase, current
item, finished or not) is derived from its items and these two logs, so a session
can be resumed from the store alone. Review scheduling (FSRS) is replayed from the
attempt log and needs no table of its own.

Moves a player tries in a learning position (``learning_tries``) are append-only too,
and kept apart from the attempt log: they are practice with feedback, not test answers,
so gains, review and exports never mistake them for one.

Schema v7: a note keeps the arrows and squares the coach drew on its position.
"""

from __future__ import annotations

import sqlite_utils


def _append_only(db: sqlite_utils.Database, table: str, what: str) -> None:
    for op in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
               BEGIN SELECT RAISE(ABORT, '{what} is append-only'); END"""
        )


def migrate_v2_study(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE players (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            rating INTEGER,
            notes TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        )"""
    )
    db.execute(
        """CREATE TABLE groups_ (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            notes TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute(
        """CREATE TABLE group_members (
            group_id INTEGER NOT NULL REFERENCES groups_(id) ON DELETE CASCADE,
            player_id INTEGER NOT NULL REFERENCES players(id) ON DELETE CASCADE,
            PRIMARY KEY (group_id, player_id)
        )"""
    )
    db.execute(
        """CREATE TABLE templates (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            plan TEXT NOT NULL,                -- JSON of study.plan.PlanSpec
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        )"""
    )
    db.execute(
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: exports cite session ids
            player_id INTEGER NOT NULL REFERENCES players(id),
            network_id INTEGER REFERENCES networks(id),
            batch TEXT NOT NULL,               -- sessions created together from one plan
            spec TEXT NOT NULL,                -- JSON of the plan spec, seed included
            seed INTEGER NOT NULL,
            mode TEXT NOT NULL DEFAULT 'coach',  -- coach / self / review
            label TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        )"""
    )
    db.execute("CREATE INDEX sessions_player ON sessions(player_id)")
    db.execute(
        """CREATE TABLE session_items (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            phase TEXT NOT NULL,               -- pre / learning / post / review
            ord INTEGER NOT NULL,              -- order within the phase
            concept_id INTEGER,
            is_control INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,              -- prototype / machine / set
            source_id INTEGER,                 -- prototypes.id, positions.id or set_positions.id
            fen TEXT NOT NULL,
            expected TEXT NOT NULL,            -- UCI, space separated
            line TEXT NOT NULL DEFAULT '',     -- teacher's line, UCI, space separated
            value REAL,                        -- teacher's value for the side to move
            visits TEXT NOT NULL DEFAULT '{}', -- snapshot of the teacher's root children
            UNIQUE (session_id, phase, ord)
        )"""
    )
    db.execute(
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            item_id INTEGER REFERENCES session_items(id),
            player_id INTEGER NOT NULL REFERENCES players(id),
            phase TEXT NOT NULL,
            concept_id INTEGER,
            is_control INTEGER NOT NULL DEFAULT 0,
            fen TEXT NOT NULL,
            expected TEXT NOT NULL,
            answer_uci TEXT NOT NULL,          -- '' when no move was given (time out, pass)
            answer_san TEXT NOT NULL,
            correct INTEGER NOT NULL,
            value_drop REAL,
            visit_share REAL,
            partial_credit REAL,
            response_ms INTEGER,
            hints INTEGER NOT NULL DEFAULT 0,
            network_id INTEGER,
            answered_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        )"""
    )
    db.execute("CREATE INDEX attempts_session ON attempts(session_id)")
    db.execute("CREATE INDEX attempts_player ON attempts(player_id)")
    _append_only(db, "attempts", "the attempt log")
    db.execute(
        """CREATE TABLE studied (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            item_id INTEGER REFERENCES session_items(id),
            player_id INTEGER NOT NULL REFERENCES players(id),
            concept_id INTEGER,
            is_control INTEGER NOT NULL DEFAULT 0,
            fen TEXT NOT NULL,
            study_ms INTEGER,
            studied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        )"""
    )
    db.execute("CREATE INDEX studied_player ON studied(player_id)")
    _append_only(db, "studied", "the study log")
    db.execute(
        """CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            prototype_id INTEGER,
            text TEXT NOT NULL,
            written_at TEXT NOT NULL DEFAULT (datetime('now'))
        )"""
    )
    db.execute(
        """CREATE TABLE position_sets (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            source_file TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        )"""
    )
    db.execute(
        """CREATE TABLE set_positions (
            id INTEGER PRIMARY KEY,
            set_id INTEGER NOT NULL REFERENCES position_sets(id) ON DELETE CASCADE,
            fen TEXT NOT NULL,
            best_moves TEXT NOT NULL DEFAULT '',  -- UCI, space separated ('' = none given)
            line TEXT NOT NULL DEFAULT '',        -- UCI continuation, if the source had one
            label TEXT NOT NULL DEFAULT '',       -- EPD id / PGN Event
            comment TEXT NOT NULL DEFAULT '',
            source_line INTEGER,                  -- line (EPD) or game number (PGN) in the file
            UNIQUE (set_id, fen)
        )"""
    )


def migrate_v5_learning_tries(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE learning_tries (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            item_id INTEGER REFERENCES session_items(id),
            player_id INTEGER NOT NULL REFERENCES players(id),
            concept_id INTEGER,
            is_control INTEGER NOT NULL DEFAULT 0,
            fen TEXT NOT NULL,
            expected TEXT NOT NULL,            -- the teacher's move(s), UCI, space separated
            answer_uci TEXT NOT NULL,
            answer_san TEXT NOT NULL,
            correct INTEGER NOT NULL,          -- the teacher's own move
            value_drop REAL,
            visit_share REAL,
            partial_credit REAL,
            response_ms INTEGER,               -- since the position was shown, pauses excluded
            tried_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        )"""
    )
    db.execute("CREATE INDEX learning_tries_session ON learning_tries(session_id)")
    db.execute("CREATE INDEX learning_tries_player ON learning_tries(player_id)")
    _append_only(db, "learning_tries", "the log of learning tries")


def migrate_v7_note_marks(db: sqlite_utils.Database) -> None:
    """Schema v7: the coach's arrows and marked squares drawn on a position, kept with the
    note on it (JSON ``{"arrows": ["e2e4", ...], "squares": ["d5", ...]}``, '' for none)."""
    db.execute("ALTER TABLE notes ADD COLUMN marks TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX notes_prototype ON notes(prototype_id)")
