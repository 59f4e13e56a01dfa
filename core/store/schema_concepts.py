"""Schema v3: the concept library, prototypes, discovery candidates and cached bases."""

from __future__ import annotations

import sqlite_utils


def migrate_v3_concepts(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE concepts (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,          -- stable id (library import never duplicates)
            network_id INTEGER REFERENCES networks(id),
            run_id TEXT REFERENCES runs(id),
            name TEXT NOT NULL,
            annotation TEXT NOT NULL DEFAULT '',
            layer TEXT NOT NULL,
            kind TEXT NOT NULL,                -- dynamic / static
            players TEXT NOT NULL DEFAULT 'single',   -- single / both
            polarity TEXT NOT NULL DEFAULT 'active',  -- active / prophylactic
            status TEXT NOT NULL,              -- novel / teachable / failed-teachability / failed-novelty / static
            hidden INTEGER NOT NULL DEFAULT 0,
            source_fen TEXT,
            vector BLOB NOT NULL,              -- float32, little-endian
            dim INTEGER NOT NULL,
            sparsity REAL NOT NULL,            -- fraction of non-zero entries
            figures TEXT NOT NULL DEFAULT '{}',  -- JSON: objective, slack, teachability, novelty curve
            params TEXT NOT NULL DEFAULT '{}',   -- JSON: every parameter and seed that produced it
            created_at TEXT NOT NULL DEFAULT (datetime('now'))
        )"""
    )
    db.execute(
        """CREATE TABLE prototypes (
            id INTEGER PRIMARY KEY,
            concept_id INTEGER NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
            fen TEXT NOT NULL,
            game_key TEXT,                     -- the game it came from (splits are by game)
            best_move TEXT NOT NULL,           -- teacher's move, UCI
            line TEXT NOT NULL DEFAULT '',     -- teacher's principal line, UCI
            value REAL,                        -- teacher's value, side to move
            visits TEXT NOT NULL DEFAULT '{}', -- JSON {uci: {"n":..,"q":..,"p":..}}
            score REAL,                        -- concept score v . z(x)
            heat TEXT,                         -- JSON 64 floats, square heat of the concept
            split TEXT NOT NULL DEFAULT 'train',
            dropped INTEGER NOT NULL DEFAULT 0,
            UNIQUE (concept_id, fen)
        )"""
    )
    db.execute("CREATE INDEX prototypes_concept ON prototypes(concept_id)")
    db.execute(
        """CREATE TABLE candidates (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            position_id INTEGER REFERENCES positions(id),
            fen TEXT NOT NULL,
            stage TEXT NOT NULL DEFAULT 'candidate',  -- candidate/solved/infeasible/teachable/novel/...
            data TEXT NOT NULL DEFAULT '{}',
            UNIQUE (run_id, fen)
        )"""
    )
    db.execute(
        """CREATE TABLE bases (
            id INTEGER PRIMARY KEY,
            network_sha256 TEXT NOT NULL,
            layer TEXT NOT NULL,
            corpus TEXT NOT NULL,
            n_positions INTEGER NOT NULL,
            singular_values BLOB NOT NULL,
            basis BLOB NOT NULL,               -- float32 (k, dim), rows orthonormal
            created_at TEXT NOT NULL DEFAULT (datetime('now')),
            UNIQUE (network_sha256, layer, corpus, n_positions)
        )"""
    )
    db.execute(
        """CREATE TABLE import_errors (
            id INTEGER PRIMARY KEY,
            run_id TEXT REFERENCES runs(id),
            file TEXT NOT NULL,
            game_number INTEGER,
            line INTEGER,
            reason TEXT NOT NULL
        )"""
    )


def migrate_v6_prototype_verification(db: sqlite_utils.Database) -> None:
    """Schema v6: an independent engine's verdict on each prototype (JSON), so that a
    session only quizzes verified items and accepts every move within the margin."""
    db.execute("ALTER TABLE prototypes ADD COLUMN verification TEXT")
