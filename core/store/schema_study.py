"""Schema v2: players, groups, session plans and templates, the attempt log, reviews."""

from __future__ import annotations

import sqlite_utils


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
            plan TEXT NOT NULL                 -- JSON of study.plan.PlanSpec
        )"""
    )
    db.execute(
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            player_id INTEGER NOT NULL REFERENCES players(id),
            network_id INTEGER REFERENCES networks(id),
            spec TEXT NOT NULL,                -- JSON of the plan spec, seed included
            seed INTEGER NOT NULL,
            mode TEXT NOT NULL DEFAULT 'coach',  -- coach / self / review
            phase TEXT NOT NULL DEFAULT 'pre',   -- pre / learning / post / done
            cursor INTEGER NOT NULL DEFAULT 0,   -- next item within the phase
            created_at TEXT NOT NULL DEFAULT (datetime('now')),
            finished_at TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE session_items (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            phase TEXT NOT NULL,
            ord INTEGER NOT NULL,
            concept_id INTEGER,
            prototype_id INTEGER,
            is_control INTEGER NOT NULL DEFAULT 0,
            fen TEXT NOT NULL,
            expected TEXT NOT NULL,            -- UCI, space separated
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
            answer_uci TEXT NOT NULL,
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
    # The attempt log is append-only: the database itself refuses edits.
    db.execute(
        """CREATE TRIGGER attempts_no_update BEFORE UPDATE ON attempts
           BEGIN SELECT RAISE(ABORT, 'the attempt log is append-only'); END"""
    )
    db.execute(
        """CREATE TRIGGER attempts_no_delete BEFORE DELETE ON attempts
           BEGIN SELECT RAISE(ABORT, 'the attempt log is append-only'); END"""
    )
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
        """CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            player_id INTEGER NOT NULL REFERENCES players(id),
            concept_id INTEGER NOT NULL,
            card TEXT NOT NULL,                -- JSON of the scheduler's card
            due TEXT NOT NULL,
            UNIQUE (player_id, concept_id)
        )"""
    )
