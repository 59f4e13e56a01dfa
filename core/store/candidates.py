"""Discovery candidates of a run: one row per searched position, its stage and its data.

``stage`` says how far the position went (trivial, same-move, candidate, solved,
unsolved); ``data`` (JSON) holds the teacher's and the weaker network's moves and,
per program, the solved vector and what each filter found. Rows are read and saved
here; what they mean is the discovery run's business (core/concepts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from conceptcoach.store.db import transaction


@dataclass
class CandidateRow:
    """One searched position of a discovery run."""

    id: int
    position_id: int
    fen: str
    stage: str
    data: dict[str, Any]


def candidate_rows(db: sqlite_utils.Database, run_id: str, stage: str | None = None) -> list[CandidateRow]:
    """The run's rows (of one stage, if given), in insertion order."""
    sql = "SELECT id, position_id, fen, stage, data FROM candidates WHERE run_id = ?"
    args: list[Any] = [run_id]
    if stage is not None:
        sql += " AND stage = ?"
        args.append(stage)
    return [CandidateRow(int(r["id"]), int(r["position_id"]), r["fen"], r["stage"], json.loads(r["data"]))
            for r in db.query(sql + " ORDER BY id", args)]


def add_candidates(db: sqlite_utils.Database, run_id: str,
                   rows: Iterable[tuple[int, str, str, dict[str, Any]]]) -> None:
    """Insert (position id, fen, stage, data) rows; a position already stored for the run is kept."""
    with transaction(db) as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO candidates (run_id, position_id, fen, stage, data) VALUES (?, ?, ?, ?, ?)",
            [(run_id, pid, fen, stage, json.dumps(data, separators=(",", ":"))) for pid, fen, stage, data in rows])


def save_candidates(db: sqlite_utils.Database, rows: Sequence[CandidateRow]) -> None:
    """Write back the stage and data of ``rows`` in one transaction."""
    with transaction(db) as conn:
        for r in rows:
            conn.execute("UPDATE candidates SET stage = ?, data = ? WHERE id = ?",
                         (r.stage, json.dumps(r.data, separators=(",", ":")), r.id))


def candidate_fens(db: sqlite_utils.Database, run_id: str) -> set[str]:
    return {r["fen"] for r in db.query("SELECT fen FROM candidates WHERE run_id = ?", [run_id])}
