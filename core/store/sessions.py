"""Study sessions in the store: the session rows, their planned items, and plan templates.

A session row is written once when the plan is made; its progress lives in the
append-only attempt and study logs (see :mod:`conceptcoach.store.attempts`), so
nothing here is updated while a session runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from conceptcoach.store.db import transaction

#: Phases in the order a session walks through them.
PHASES: tuple[str, ...] = ("pre", "learning", "post", "review")
TEST_PHASES: tuple[str, ...] = ("pre", "post", "review")
MODES: tuple[str, ...] = ("coach", "self", "review")


@dataclass(frozen=True)
class SessionRecord:
    id: int
    player_id: int
    network_id: int | None
    batch: str
    spec: dict[str, Any]
    seed: int
    mode: str
    label: str
    created_at: str


@dataclass(frozen=True)
class NewItem:
    """One planned position, before it is stored."""

    phase: str
    ord: int
    concept_id: int | None
    is_control: bool
    source: str  # prototype / machine / set
    source_id: int | None
    fen: str
    expected: tuple[str, ...]
    line: tuple[str, ...] = ()
    value: float | None = None
    visits: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Why the plan chose it (e.g. "found by 34% of players rated 1500 (Maia)").
    why: str = ""


@dataclass(frozen=True)
class SessionItem(NewItem):
    id: int = 0
    session_id: int = 0


@dataclass(frozen=True)
class Template:
    id: int
    name: str
    plan: dict[str, Any]
    created_at: str


def _session(row: dict[str, Any]) -> SessionRecord:
    return SessionRecord(
        id=int(row["id"]), player_id=int(row["player_id"]), network_id=row["network_id"], batch=row["batch"],
        spec=json.loads(row["spec"]), seed=int(row["seed"]), mode=row["mode"], label=row["label"],
        created_at=row["created_at"],
    )


def _item(row: dict[str, Any]) -> SessionItem:
    return SessionItem(
        id=int(row["id"]), session_id=int(row["session_id"]), phase=row["phase"], ord=int(row["ord"]),
        concept_id=row["concept_id"], is_control=bool(row["is_control"]), source=row["source"],
        source_id=row["source_id"], fen=row["fen"], expected=tuple(row["expected"].split()),
        line=tuple(row["line"].split()), value=row["value"], visits=json.loads(row["visits"] or "{}"),
        why=row.get("why") or "",
    )


def insert_sessions(
    db: sqlite_utils.Database,
    *,
    player_ids: Sequence[int],
    items: Sequence[NewItem],
    spec: dict[str, Any],
    seed: int,
    mode: str,
    batch: str,
    network_id: int | None = None,
    label: str = "",
) -> list[int]:
    """Store one session per player, each with the same ``items``, in one transaction.
    Returns the session ids in the order of ``player_ids``."""
    if mode not in MODES:
        raise ValueError(f"unknown session mode {mode!r}; expected one of {MODES}")
    ids: list[int] = []
    with transaction(db, immediate=True) as conn:
        for pid in player_ids:
            cur = conn.execute(
                "INSERT INTO sessions (player_id, network_id, batch, spec, seed, mode, label) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (pid, network_id, batch, json.dumps(spec, sort_keys=True), seed, mode, label),
            )
            sid = int(cur.lastrowid or 0)
            ids.append(sid)
            for it in items:
                conn.execute(
                    "INSERT INTO session_items (session_id, phase, ord, concept_id, is_control, source, source_id,"
                    " fen, expected, line, value, visits, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (sid, it.phase, it.ord, it.concept_id, int(it.is_control), it.source, it.source_id, it.fen,
                     " ".join(it.expected), " ".join(it.line), it.value, json.dumps(it.visits), it.why),
                )
    return ids


def get_session(db: sqlite_utils.Database, session_id: int) -> SessionRecord:
    """The session ``session_id``; raises KeyError if there is none."""
    rows = list(db.query("SELECT * FROM sessions WHERE id = ?", [session_id]))
    if not rows:
        raise KeyError(f"no session with id {session_id}")
    return _session(rows[0])


def list_sessions(db: sqlite_utils.Database, player_id: int | None = None, batch: str | None = None) -> list[SessionRecord]:
    """Sessions, newest first, optionally of one player or one batch."""
    where: list[str] = ["1=1"]
    args: list[object] = []
    if player_id is not None:
        where.append("player_id = ?")
        args.append(player_id)
    if batch is not None:
        where.append("batch = ?")
        args.append(batch)
    sql = f"SELECT * FROM sessions WHERE {' AND '.join(where)} ORDER BY id DESC"
    return [_session(r) for r in db.query(sql, args)]


def session_items(db: sqlite_utils.Database, session_id: int) -> list[SessionItem]:
    """The planned items of a session in the order they are met (phase, then ord)."""
    order = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(PHASES))
    sql = f"SELECT * FROM session_items WHERE session_id = ? ORDER BY CASE phase {order} END, ord"
    return [_item(r) for r in db.query(sql, [session_id])]


def get_item(db: sqlite_utils.Database, item_id: int) -> SessionItem:
    rows = list(db.query("SELECT * FROM session_items WHERE id = ?", [item_id]))
    if not rows:
        raise KeyError(f"no session item with id {item_id}")
    return _item(rows[0])


def save_template(db: sqlite_utils.Database, name: str, plan: dict[str, Any], replace: bool = False) -> Template:
    """Save a plan (as a dict, see ``study.plan.PlanSpec.to_dict``) under ``name``."""
    name = name.strip()
    if not name:
        raise ValueError("a template name cannot be empty")
    exists = list(db.query("SELECT id FROM templates WHERE name = ?", [name]))
    if exists and not replace:
        raise ValueError(f"a template named {name!r} exists already; choose another name or replace it")
    text = json.dumps(plan, sort_keys=True)
    if exists:
        db.execute("UPDATE templates SET plan = ? WHERE name = ?", [text, name])
    else:
        db.execute("INSERT INTO templates (name, plan) VALUES (?, ?)", [name, text])
    return get_template(db, name)


def get_template(db: sqlite_utils.Database, name: str) -> Template:
    rows = list(db.query("SELECT * FROM templates WHERE name = ?", [name]))
    if not rows:
        raise KeyError(f"no template named {name!r}")
    r = rows[0]
    return Template(id=int(r["id"]), name=r["name"], plan=json.loads(r["plan"]), created_at=r["created_at"])


def list_templates(db: sqlite_utils.Database) -> list[Template]:
    return [Template(id=int(r["id"]), name=r["name"], plan=json.loads(r["plan"]), created_at=r["created_at"])
            for r in db.query("SELECT * FROM templates ORDER BY name")]


def delete_template(db: sqlite_utils.Database, name: str) -> None:
    get_template(db, name)
    db.execute("DELETE FROM templates WHERE name = ?", [name])


def delete_unstarted_session(db: sqlite_utils.Database, session_id: int) -> None:
    """Remove a session nobody has answered or studied anything in (a plan made by
    mistake); its positions become available to new plans again. A session with any
    record in the logs is kept: raises ValueError saying so."""
    get_session(db, session_id)
    with transaction(db, immediate=True) as conn:
        used = conn.execute("SELECT (SELECT COUNT(*) FROM attempts WHERE session_id = ?)"
                            " + (SELECT COUNT(*) FROM studied WHERE session_id = ?)",
                            (session_id, session_id)).fetchone()[0]
        if used:
            raise ValueError(f"session {session_id} has {used} record(s) in the attempt and study logs and "
                             "cannot be deleted; leave it unfinished instead")
        conn.execute("DELETE FROM session_items WHERE session_id = ?", (session_id,))
        conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
