"""The concept library in the store: concepts, their prototypes, and a coach's curation.

Vectors are stored as little-endian float32 blobs. Concepts are keyed by a stable
``uid`` so loading a library twice never duplicates anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlite_utils
from conceptcoach.store.db import transaction


class ConceptStatus(StrEnum):
    """Where a concept stands after the filters (stored as its string value)."""

    NOVEL = "novel"  # teachable and not explained by human games
    TEACHABLE = "teachable"  # teachable, novelty not measured yet
    FAILED_TEACHABILITY = "failed-teachability"
    FAILED_NOVELTY = "failed-novelty"
    STATIC = "static"  # a known idea fitted on labelled positions
    CANDIDATE = "candidate"

    @property
    def failed(self) -> bool:
        return self in (ConceptStatus.FAILED_TEACHABILITY, ConceptStatus.FAILED_NOVELTY)


STATUSES = tuple(s.value for s in ConceptStatus)


@dataclass
class Concept:
    id: int
    uid: str
    name: str
    layer: str
    kind: str  # dynamic / static
    players: str  # single / both
    polarity: str  # active / prophylactic
    status: str
    hidden: bool
    annotation: str
    sparsity: float
    dim: int
    source_fen: str | None
    figures: dict[str, Any]
    params: dict[str, Any]
    network_id: int | None = None
    run_id: str | None = None
    prototype_count: int = 0

    @property
    def is_control(self) -> bool:
        """Concepts that failed a filter serve as control items in sessions."""
        return ConceptStatus(self.status).failed


@dataclass
class Prototype:
    id: int
    concept_id: int
    fen: str
    best_move: str
    line: list[str]
    value: float | None
    visits: dict[str, dict[str, float]]
    score: float | None = None
    heat: list[float] | None = None
    split: str = "train"
    game_key: str | None = None
    dropped: bool = False
    #: An independent engine's verdict (core/concepts/verify.py), None if never verified.
    verification: dict[str, Any] | None = None
    #: {rating: probability that a player of that rating finds the teacher's move} (Maia).
    human: dict[str, float] | None = None

    def find_probability_at(self, rating: int | None) -> float | None:
        """The probability that a player of ``rating`` finds the answer, interpolated
        between the human models' ratings (clamped to the ends); None when unknown."""
        if not self.human or rating is None:
            return None
        points = sorted((int(r), float(p)) for r, p in self.human.items())
        return float(np.interp(rating, [r for r, _ in points], [p for _, p in points]))

    @property
    def verified_quiz_item(self) -> bool:
        """Verified by the engine and fit for a test (open, no history involved)."""
        return bool(self.verification and self.verification.get("quiz_item"))

    def accepted_moves(self) -> list[str]:
        """Every answer scored as right: the moves within the verification's margin of the
        best, or the teacher's move alone when the item was never verified."""
        if self.verification and self.verification.get("accepted"):
            return list(self.verification["accepted"])
        return [self.best_move]

    def visit_share(self, uci: str) -> float:
        total = sum(float(v.get("n", 0)) for v in self.visits.values())
        return float(self.visits.get(uci, {}).get("n", 0)) / total if total else 0.0


@dataclass
class NewPrototype:
    fen: str
    best_move: str
    line: Sequence[str] = ()
    value: float | None = None
    visits: dict[str, dict[str, float]] = field(default_factory=dict)
    score: float | None = None
    heat: Sequence[float] | None = None
    split: str = "train"
    game_key: str | None = None
    verification: dict[str, Any] | None = None
    human: dict[str, float] | None = None


def vector_to_blob(vector: npt.NDArray[np.floating[Any]]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _concept(row: dict[str, Any]) -> Concept:
    return Concept(
        id=row["id"], uid=row["uid"], name=row["name"], layer=row["layer"], kind=row["kind"],
        players=row["players"], polarity=row["polarity"], status=row["status"], hidden=bool(row["hidden"]),
        annotation=row["annotation"], sparsity=float(row["sparsity"]), dim=int(row["dim"]),
        source_fen=row["source_fen"], figures=json.loads(row["figures"] or "{}"),
        params=json.loads(row["params"] or "{}"), network_id=row["network_id"], run_id=row["run_id"],
        prototype_count=int(row.get("prototype_count") or 0),
    )


def _prototype(row: dict[str, Any]) -> Prototype:
    return Prototype(
        id=row["id"], concept_id=row["concept_id"], fen=row["fen"], best_move=row["best_move"],
        line=row["line"].split() if row["line"] else [], value=row["value"],
        visits=json.loads(row["visits"] or "{}"), score=row["score"],
        heat=json.loads(row["heat"]) if row["heat"] else None, split=row["split"],
        game_key=row["game_key"], dropped=bool(row["dropped"]),
        verification=json.loads(row["verification"]) if row.get("verification") else None,
        human=json.loads(row["human"]) if row.get("human") else None,
    )


def add_concept(
    db: sqlite_utils.Database,
    *,
    uid: str,
    name: str,
    layer: str,
    kind: str,
    status: str,
    vector: npt.NDArray[np.floating[Any]],
    players: str = "single",
    polarity: str = "active",
    source_fen: str | None = None,
    figures: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    network_id: int | None = None,
    run_id: str | None = None,
    annotation: str = "",
    prototypes: Sequence[NewPrototype] = (),
) -> int:
    """Insert a concept with its prototypes in one transaction; returns its id.

    If a concept with ``uid`` exists it is left as it is (the coach's edits are
    kept) and its id is returned.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown concept status {status!r}; expected one of {STATUSES}")
    existing = list(db.query("SELECT id FROM concepts WHERE uid = ?", [uid]))
    if existing:
        return int(existing[0]["id"])
    vec = np.asarray(vector, dtype=np.float32)
    nonzero = float(np.count_nonzero(np.abs(vec) > 1e-9)) / max(1, vec.size)
    with transaction(db) as conn:
        cur = conn.execute(
            "INSERT INTO concepts (uid, network_id, run_id, name, annotation, layer, kind, players, polarity,"
            " status, source_fen, vector, dim, sparsity, figures, params) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (uid, network_id, run_id, name, annotation, layer, kind, players, polarity, status, source_fen,
             vector_to_blob(vec), int(vec.size), nonzero, json.dumps(figures or {}), json.dumps(params or {})),
        )
        concept_id = int(cur.lastrowid or 0)
        for p in prototypes:
            conn.execute(
                "INSERT OR IGNORE INTO prototypes (concept_id, fen, game_key, best_move, line, value, visits,"
                " score, heat, split, verification, human) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (concept_id, p.fen, p.game_key, p.best_move, " ".join(p.line), p.value, json.dumps(p.visits),
                 p.score, json.dumps(list(p.heat)) if p.heat is not None else None, p.split,
                 json.dumps(p.verification) if p.verification is not None else None,
                 json.dumps(p.human) if p.human is not None else None),
            )
    return concept_id


_LIST_SQL = (
    "SELECT c.*, (SELECT COUNT(*) FROM prototypes p WHERE p.concept_id = c.id AND p.dropped = 0)"
    " AS prototype_count FROM concepts c"
)


def list_concepts(
    db: sqlite_utils.Database,
    *,
    include_hidden: bool = False,
    statuses: Sequence[str] | None = None,
    layer: str | None = None,
    kind: str | None = None,
) -> list[Concept]:
    """Concepts in the library, optionally filtered; ordered by id."""
    where: list[str] = ["1=1"]
    args: list[object] = []
    if not include_hidden:
        where.append("c.hidden = 0")
    if statuses:
        where.append(f"c.status IN ({','.join('?' * len(statuses))})")
        args.extend(statuses)
    if layer:
        where.append("c.layer = ?")
        args.append(layer)
    if kind:
        where.append("c.kind = ?")
        args.append(kind)
    sql = f"{_LIST_SQL} WHERE {' AND '.join(where)} ORDER BY c.id"
    return [_concept(r) for r in db.query(sql, args)]


def get_concept(db: sqlite_utils.Database, concept_id: int) -> Concept:
    rows = list(db.query(f"{_LIST_SQL} WHERE c.id = ?", [concept_id]))
    if not rows:
        raise KeyError(f"no concept with id {concept_id}")
    return _concept(rows[0])


def concept_vector(db: sqlite_utils.Database, concept_id: int) -> npt.NDArray[np.float32]:
    rows = list(db.query("SELECT vector FROM concepts WHERE id = ?", [concept_id]))
    if not rows:
        raise KeyError(f"no concept with id {concept_id}")
    return blob_to_vector(rows[0]["vector"])


def list_prototypes(db: sqlite_utils.Database, concept_id: int, *, include_dropped: bool = False) -> list[Prototype]:
    sql = "SELECT * FROM prototypes WHERE concept_id = ?"
    if not include_dropped:
        sql += " AND dropped = 0"
    return [_prototype(r) for r in db.query(sql + " ORDER BY id", [concept_id])]


def get_prototype(db: sqlite_utils.Database, prototype_id: int) -> Prototype:
    rows = list(db.query("SELECT * FROM prototypes WHERE id = ?", [prototype_id]))
    if not rows:
        raise KeyError(f"no prototype with id {prototype_id}")
    return _prototype(rows[0])


def _update_concept(db: sqlite_utils.Database, concept_id: int, **values: Any) -> None:
    get_concept(db, concept_id)  # raises KeyError for an unknown id
    sets = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE concepts SET {sets} WHERE id = ?", [*values.values(), concept_id])


def rename_concept(db: sqlite_utils.Database, concept_id: int, name: str) -> None:
    name = name.strip()
    if not name:
        raise ValueError("a concept name cannot be empty")
    _update_concept(db, concept_id, name=name)


def annotate_concept(db: sqlite_utils.Database, concept_id: int, annotation: str) -> None:
    _update_concept(db, concept_id, annotation=annotation)


def set_concept_hidden(db: sqlite_utils.Database, concept_id: int, hidden: bool) -> None:
    _update_concept(db, concept_id, hidden=int(hidden))


def set_prototype_dropped(db: sqlite_utils.Database, prototype_id: int, dropped: bool = True) -> None:
    get_prototype(db, prototype_id)
    db.execute("UPDATE prototypes SET dropped = ? WHERE id = ?", [int(dropped), prototype_id])


def library_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Number of concepts per status (hidden ones included)."""
    return {r["status"]: r["n"] for r in db.query("SELECT status, COUNT(*) AS n FROM concepts GROUP BY status")}


def concept_uid_exists(db: sqlite_utils.Database, uid: str) -> bool:
    return bool(list(db.query("SELECT 1 FROM concepts WHERE uid = ?", [uid])))


def count_concepts(db: sqlite_utils.Database, run_id: str, kind: str) -> int:
    """Concepts of one kind (dynamic, static) a run wrote."""
    return int(db.execute("SELECT COUNT(*) FROM concepts WHERE run_id = ? AND kind = ?", [run_id, kind]).fetchone()[0])


def concept_uids(db: sqlite_utils.Database) -> set[str]:
    return {r["uid"] for r in db.query("SELECT uid FROM concepts")}


def concept_signatures(db: sqlite_utils.Database) -> list[tuple[str, str | None, str, str, bytes]]:
    """(layer, source fen, players, polarity, vector blob) of every stored concept."""
    return [(r["layer"], r["source_fen"], r["players"], r["polarity"], bytes(r["vector"]))
            for r in db.query("SELECT layer, source_fen, players, polarity, vector FROM concepts")]


def concept_names(db: sqlite_utils.Database) -> dict[int, str]:
    return {int(r["id"]): str(r["name"]) for r in db.query("SELECT id, name FROM concepts")}


def set_prototype_verification(db: sqlite_utils.Database, prototype_id: int, verdict: dict[str, Any]) -> None:
    db.execute("UPDATE prototypes SET verification = ? WHERE id = ?", [json.dumps(verdict), prototype_id])


def concepts_of_run(db: sqlite_utils.Database, run_id: str) -> list[Concept]:
    """Every concept a discovery run wrote (hidden ones too), by id."""
    return [c for c in list_concepts(db, include_hidden=True) if c.run_id == run_id]


def set_prototype_human(db: sqlite_utils.Database, prototype_id: int, human: dict[str, float]) -> None:
    db.execute("UPDATE prototypes SET human = ? WHERE id = ?", [json.dumps(human), prototype_id])
