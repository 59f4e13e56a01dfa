"""Runs: every long job records its parameters and seeds, and can be resumed by id."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils


def start_run(db: sqlite_utils.Database, run_id: str, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Create the run, or return the existing one when resuming.

    Raises ValueError if a run with this id exists with other parameters: resuming
    must not silently mix results of two settings.
    """
    rows = list(db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
    encoded = json.dumps(params, sort_keys=True)
    if rows:
        old = json.loads(rows[0]["params"])
        if json.dumps(old, sort_keys=True) != encoded:
            diff = sorted(k for k in set(old) | set(params) if old.get(k) != params.get(k))
            raise ValueError(f"run {run_id!r} exists with other parameters ({', '.join(diff)}); use a new run id")
        db.execute("UPDATE runs SET status = 'running' WHERE id = ?", [run_id])
        return dict(rows[0])
    db.table("runs").insert({"id": run_id, "kind": kind, "params": encoded, "status": "running"})
    return dict(next(iter(db.query("SELECT * FROM runs WHERE id = ?", [run_id]))))


def finish_run(db: sqlite_utils.Database, run_id: str, summary: dict[str, Any], status: str = "done") -> None:
    db.execute(
        "UPDATE runs SET status = ?, finished_at = datetime('now'), summary = ? WHERE id = ?",
        [status, json.dumps(summary), run_id],
    )


def get_run(db: sqlite_utils.Database, run_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
    if not rows:
        return None
    row = dict(rows[0])
    row["params"] = json.loads(row["params"])
    row["summary"] = json.loads(row["summary"]) if row["summary"] else None
    return row


def set_run_summary(db: sqlite_utils.Database, run_id: str, summary: dict[str, Any]) -> None:
    """Record a run's summary while it is still running (e.g. a baseline it must not redo)."""
    db.execute("UPDATE runs SET summary = ? WHERE id = ?", [json.dumps(summary), run_id])


def run_is_done(db: sqlite_utils.Database, run_id: str) -> bool:
    return bool(list(db.query("SELECT 1 FROM runs WHERE id = ? AND status = 'done'", [run_id])))


def record_finished_run(db: sqlite_utils.Database, run_id: str, kind: str, params: dict[str, Any],
                        summary: dict[str, Any]) -> None:
    """Record a run that is done at once (e.g. a library load), replacing an earlier record."""
    db.execute("INSERT OR REPLACE INTO runs (id, kind, params, status, finished_at, summary)"
               " VALUES (?, ?, ?, 'done', datetime('now'), ?)", [run_id, kind, json.dumps(params), json.dumps(summary)])
