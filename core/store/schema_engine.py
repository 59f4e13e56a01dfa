"""Schema v1: networks, games, positions, search summaries and runs."""

from __future__ import annotations

import sqlite_utils


def migrate_v1_engine(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE networks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            architecture TEXT NOT NULL,      -- JSON: blocks, channels, input planes
            metadata TEXT NOT NULL,          -- JSON: step, run id, parent, role
            role TEXT,                       -- teacher / weaker / student / other
            bundled INTEGER NOT NULL DEFAULT 0,
            registered_at TEXT NOT NULL DEFAULT (datetime('now'))
        )"""
    )
    db.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,             -- e.g. selfplay-<network>-<seed>
            kind TEXT NOT NULL,              -- selfplay / import / discovery / ...
            params TEXT NOT NULL,            -- JSON of every parameter and seed
            status TEXT NOT NULL DEFAULT 'running',
            started_at TEXT NOT NULL DEFAULT (datetime('now')),
            finished_at TEXT,
            summary TEXT                     -- JSON, filled at the end
        )"""
    )
    db.execute(
        """CREATE TABLE games (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL CHECK (source IN ('human', 'selfplay', 'match', 'custom')),
            run_id TEXT REFERENCES runs(id),
            corpus TEXT,                     -- import corpus name (file stem) for human games
            game_index INTEGER,              -- position in its run or file
            digest TEXT,                     -- sha256 of headers+moves: re-import never duplicates
            headers TEXT NOT NULL DEFAULT '{}',
            start_fen TEXT NOT NULL,
            moves TEXT NOT NULL DEFAULT '',  -- UCI, space separated
            result TEXT NOT NULL DEFAULT '*',
            status TEXT NOT NULL DEFAULT 'complete',
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        )"""
    )
    db.execute("CREATE UNIQUE INDEX games_digest ON games(source, digest) WHERE digest IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX games_run_index ON games(run_id, game_index) WHERE run_id IS NOT NULL")
    db.execute("CREATE INDEX games_corpus ON games(corpus)")
    db.execute(
        """CREATE TABLE positions (
            id INTEGER PRIMARY KEY,
            game_id INTEGER NOT NULL REFERENCES games(id) ON DELETE CASCADE,
            ply INTEGER NOT NULL,
            fen TEXT NOT NULL,
            move TEXT,                        -- UCI move played from here, if any
            UNIQUE (game_id, ply)
        )"""
    )
    db.execute("CREATE INDEX positions_fen ON positions(fen)")
    db.execute(
        """CREATE TABLE search_summaries (
            id INTEGER PRIMARY KEY,
            position_id INTEGER NOT NULL UNIQUE REFERENCES positions(id) ON DELETE CASCADE,
            network_id INTEGER NOT NULL REFERENCES networks(id),
            simulations INTEGER NOT NULL,
            root_value REAL NOT NULL,         -- side to move's view, [-1, 1]
            best_move TEXT NOT NULL,
            summary TEXT NOT NULL             -- JSON of engine.summary.TreeSummary
        )"""
    )


def migrate_v4_network_family(db: sqlite_utils.Database) -> None:
    """Schema v4: a network's family (ours, lc0), so a Leela file is registered like ours."""
    db.execute("ALTER TABLE networks ADD COLUMN family TEXT NOT NULL DEFAULT 'ours'")
