"""Session plans: who studies which concepts, how many positions per phase, in what order.

A :class:`PlanSpec` is plain data (JSON round-trip, saved as a template). Making a
plan picks prototypes for every phase with a recorded seed:

* per concept, the pre-test, learning and post-test prototypes are disjoint, and no two
  phases of a session use positions from the same game, nor does a test position lie on
  a line shown in the learning phase;
* where the library carries an engine's verdicts, the tests use only verified quiz items
  (the teacher's move within the margin of the best, the position open, no history
  involved), learning uses no rejected item, and every move within the margin is an
  accepted answer; an unverified library is used as it is;
* known ideas (static concepts) check the method; they are not lessons and are refused;
* no player of the plan meets a position (by FEN without move counters) that they
  answered or studied in any earlier session, or that is planned in another of their
  sessions, and no position appears twice;
* control items (prototypes of concepts that failed a filter, random machine
  positions from self-play, or a custom position set) run through the same phases;
* a review-mode plan has one test phase, ``review``, of positions the players have
  not been tested on (unseen ones first, then ones they only studied).

When a concept has too few unused prototypes, :class:`NotEnoughPositions` says which
concept, how many are needed and how many are available.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import chess
import numpy as np
import sqlite_utils
from conceptcoach.store.attempts import position_key, seen_positions, tested_positions
from conceptcoach.store.concepts import get_concept, list_concepts, list_prototypes
from conceptcoach.store.games import searched_positions_with_choices, stored_summary
from conceptcoach.store.players import get_player
from conceptcoach.store.position_sets import set_positions
from conceptcoach.store.sessions import MODES, NewItem, insert_sessions
from conceptcoach.study.phases import Phase

CONTROL_SOURCES = ("failed", "machine", "set")
#: Machine controls skip the first plies (opening moves are not comparable to concept
#: positions) and forced moves (nothing to find).
MACHINE_MIN_PLY = 8


class PlanError(ValueError):
    """A plan that cannot be made; the message says what to change."""


class NotEnoughPositions(PlanError):
    def __init__(self, what: str, needed: int, available: int, concept_id: int | None = None,
                 taken_here: int = 0) -> None:
        self.what, self.needed, self.available, self.concept_id = what, needed, available, concept_id
        self.taken_here = taken_here
        here = (f" ({taken_here} more are placed under other concepts of this session: one position "
                "can be a prototype of several concepts)") if taken_here else ""
        super().__init__(
            f"{what} has {available} unused position(s) for these players but the plan needs {needed}{here}; "
            "lower the positions per phase, choose other concepts or players, or add prototypes"
        )


@dataclass
class ControlSpec:
    """Control items: ``count`` positions per phase from ``source``."""

    count: int = 0
    source: str = "failed"  # failed: concepts that failed a filter; machine: self-play positions; set: a custom set
    set_id: int | None = None


@dataclass
class PlanSpec:
    player_ids: list[int]
    concept_ids: list[int]
    per_phase: int = 4
    learning_per_concept: int | None = None  # default: per_phase
    seconds_per_position: float | None = None  # shown and enforced by the client
    control: ControlSpec = field(default_factory=ControlSpec)
    seed: int | None = None  # None: drawn when the plan is made, then recorded
    mode: str = "coach"  # coach / self / review
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanSpec:
        d = dict(data)
        control = ControlSpec(**d.pop("control", {}) or {})
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise PlanError(f"unknown plan field(s): {', '.join(sorted(unknown))}")
        d["player_ids"] = [int(x) for x in d.get("player_ids", [])]
        d["concept_ids"] = [int(x) for x in d.get("concept_ids", [])]
        return cls(control=control, **d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PlanSpec:
        return cls.from_dict(json.loads(text))

    @property
    def learning_count(self) -> int:
        return self.per_phase if self.learning_per_concept is None else self.learning_per_concept

    def phases(self) -> tuple[Phase, ...]:
        return (Phase.REVIEW,) if self.mode == "review" else (Phase.PRE, Phase.LEARNING, Phase.POST)

    def validate(self) -> None:
        if self.mode not in MODES:
            raise PlanError(f"unknown mode {self.mode!r}; expected one of {', '.join(MODES)}")
        if not self.player_ids:
            raise PlanError("a plan needs at least one player")
        if not self.concept_ids:
            raise PlanError("a plan needs at least one concept")
        if len(set(self.concept_ids)) != len(self.concept_ids):
            raise PlanError("a concept appears twice in the plan")
        if self.per_phase < 1:
            raise PlanError("positions per phase must be at least 1")
        if self.learning_count < 0 or self.control.count < 0:
            raise PlanError("counts cannot be negative")
        if self.control.source not in CONTROL_SOURCES:
            raise PlanError(f"unknown control source {self.control.source!r}; expected one of {CONTROL_SOURCES}")
        if self.control.count and self.control.source == "set" and self.control.set_id is None:
            raise PlanError("control source 'set' needs a position set id")
        if self.seconds_per_position is not None and self.seconds_per_position <= 0:
            raise PlanError("seconds per position must be positive")


@dataclass(frozen=True)
class PlannedSessions:
    session_ids: list[int]
    batch: str
    seed: int
    items_per_session: int


@dataclass(frozen=True)
class _Candidate:
    concept_id: int | None
    is_control: bool
    source: str
    source_id: int
    fen: str
    expected: tuple[str, ...]
    line: tuple[str, ...]
    value: float | None
    visits: dict[str, dict[str, float]]
    game_key: str | None = None
    #: None: never verified; else whether an engine found it fit for a test / for learning.
    quiz_ok: bool | None = None
    learn_ok: bool | None = None
    #: The probability that players of the plan's rating find the answer (Maia), if known.
    find_p: float | None = None

    def fit_for(self, phase: str) -> bool:
        if phase == Phase.LEARNING:
            return self.learn_ok is not False
        return self.quiz_ok is not False

    def line_keys(self) -> set[str]:
        """The positions the item's line passes through (the learning view shows them)."""
        board = chess.Board(self.fen)
        keys = set()
        for uci in self.line:
            try:
                board.push_uci(uci)
            except ValueError:
                break
            keys.add(position_key(board.fen()))
        return keys


def _shuffled(rng: np.random.Generator, items: Sequence[Any]) -> list[Any]:
    order = rng.permutation(len(items))
    return [items[i] for i in order]


#: Items suit a rating when players of it find the answer this often (Maia): neither
#: found by almost everyone nor by almost no one.
SUITED = (0.1, 0.9)


def _concept_candidates(db: sqlite_utils.Database, concept_id: int, is_control: bool,
                        rating: int | None = None) -> list[_Candidate]:
    out = []
    for p in list_prototypes(db, concept_id):
        verdict = p.verification
        find_p = p.find_probability_at(rating)
        if verdict is None or verdict.get("status") == "unverified":
            out.append(_Candidate(concept_id, is_control, "prototype", p.id, p.fen, (p.best_move,), tuple(p.line),
                                  p.value, p.visits, p.game_key, find_p=find_p))
            continue
        # Every move within the margin is right; the teacher's move comes first. The line
        # shown is the verified one (cut before the first move that goes wrong).
        accepted = sorted(verdict.get("accepted", {}).items(), key=lambda kv: -kv[1])
        expected = (p.best_move, *[m for m, _ in accepted if m != p.best_move])
        line = tuple(verdict.get("line") or p.line)
        # The engine's evaluation of every move it searched goes with the item, so that a
        # near miss is credited from it and the review can show both moves' evaluations.
        visits = {m: dict(v) for m, v in p.visits.items()}
        for move, cp in (verdict.get("evals") or {}).items():
            visits.setdefault(move, {"n": 0.0})["cp"] = float(cp)
        out.append(_Candidate(concept_id, is_control, "prototype", p.id, p.fen, expected, line, p.value,
                              visits, p.game_key, quiz_ok=bool(verdict.get("quiz_item")),
                              learn_ok=verdict.get("status") == "verified", find_p=find_p))
    return out


def _machine_candidates(db: sqlite_utils.Database) -> list[_Candidate]:
    # Summaries are loaded only for the chosen few (see _with_search): a self-play run
    # stores thousands of them.
    return [_Candidate(None, True, "machine", int(r["id"]), r["fen"], (r["best_move"],), (), r["root_value"], {})
            for r in searched_positions_with_choices(db, MACHINE_MIN_PLY)]


def _with_search(db: sqlite_utils.Database, c: _Candidate) -> _Candidate:
    if c.source != "machine":
        return c
    summary = stored_summary(db, c.source_id)
    visits = {ch["move"]: {"n": ch["n"], "q": ch["q"], "p": ch["p"]} for ch in summary.get("children", [])}
    return dataclasses.replace(c, line=tuple(summary.get("principal_line", [])), visits=visits)


def _set_candidates(db: sqlite_utils.Database, set_id: int) -> list[_Candidate]:
    rows = set_positions(db, set_id, answered_only=True)
    return [_Candidate(None, True, "set", int(r["id"]), r["fen"], tuple(r["best_moves"].split()),
                       tuple(r["line"].split()), None, {}) for r in rows]


def build_items(db: sqlite_utils.Database, spec: PlanSpec, seed: int) -> list[NewItem]:
    """Choose and order the items of a plan (no writes). Raises :class:`PlanError`."""
    spec.validate()
    ratings = []
    for pid in spec.player_ids:
        try:
            player = get_player(db, pid)
        except KeyError as exc:
            raise PlanError(str(exc.args[0])) from exc
        if player.rating is not None:
            ratings.append(player.rating)
    # Items suited to the players' rating are preferred (one session serves them all).
    rating = int(round(sum(ratings) / len(ratings))) if ratings else None
    rng = np.random.default_rng(seed)
    phases = spec.phases()
    review = spec.mode == "review"
    # Review mode may reuse what was only studied (or planned); tests never reuse anything.
    seen = seen_positions(db, spec.player_ids)
    tested = tested_positions(db, spec.player_ids) if review else seen
    used: set[str] = set()  # positions already placed in this plan
    games: dict[str, str] = {}  # game key -> the phase whose positions came from it
    test_keys: set[str] = set()  # test positions placed so far
    learning_lines: set[str] = set()  # positions shown along learning lines so far

    def fits(c: _Candidate, ph: str) -> bool:
        if not c.fit_for(ph):
            return False
        if c.game_key is not None and games.get(c.game_key, ph) != ph:
            return False  # another phase already uses this game
        if ph == Phase.LEARNING:
            return not (c.line_keys() & test_keys)
        return position_key(c.fen) not in learning_lines

    def place(c: _Candidate, ph: str) -> None:
        used.add(position_key(c.fen))
        if c.game_key is not None:
            games[c.game_key] = ph
        if ph == Phase.LEARNING:
            learning_lines.update(c.line_keys())
        else:
            test_keys.add(position_key(c.fen))

    def pick(cands: list[_Candidate], counts: dict[str, int], what: str, concept_id: int | None,
             wanted_later: frozenset[str] = frozenset()) -> dict[str, list[_Candidate]]:
        fresh: list[_Candidate] = []
        shared: list[_Candidate] = []
        reusable: list[_Candidate] = []
        keys: set[str] = set()
        taken_here: set[str] = set()
        for c in cands:
            k = position_key(c.fen)
            if k in used and k not in tested:
                taken_here.add(k)
            if k in used or k in keys or k in tested:
                continue
            keys.add(k)
            (reusable if k in seen else shared if k in wanted_later else fresh).append(c)
        # Unseen positions first, and among them those no concept still to be placed
        # needs; a review may fall back on positions only studied.
        pool = [c for group in (fresh, shared, reusable) for c in _by_suitability(_shuffled(rng, group))]
        needed = sum(counts.values())
        if len(pool) < needed:
            raise NotEnoughPositions(what, needed, len(pool), concept_id, len(taken_here))
        chosen: dict[str, list[_Candidate]] = {ph: [] for ph in phases}
        taken: set[int] = set()
        # Tests first (they need verified quiz items, the scarcer kind), then learning.
        for ph in sorted(phases, key=lambda ph: ph == Phase.LEARNING):
            # Games this phase already uses first, so that games stay free for the others.
            order = sorted(range(len(pool)), key=lambda k: (games.get(pool[k].game_key or "") != ph, k))
            for k in order:
                c = pool[k]
                if len(chosen[ph]) >= counts[ph]:
                    break
                if k not in taken and fits(c, ph):
                    chosen[ph].append(c)
                    taken.add(k)
                    place(c, ph)
            if len(chosen[ph]) < counts[ph]:
                fit = sum(1 for c in pool if c.fit_for(ph))
                kind = "learning positions" if ph == Phase.LEARNING else "verified quiz items"
                raise NotEnoughPositions(
                    f"{what} ({ph}: {fit} {kind} of {len(pool)} unused positions, "
                    "and no two phases may share a game or a learning line)",
                    needed, len(pool), concept_id, len(taken_here))
        return chosen

    counts = {ph: (spec.learning_count if ph == Phase.LEARNING else spec.per_phase) for ph in phases}
    by_phase: dict[str, list[list[_Candidate]]] = {ph: [] for ph in phases}
    concept_cands: dict[int, list[_Candidate]] = {}
    names: dict[int, str] = {}
    for cid in spec.concept_ids:
        try:
            concept = get_concept(db, cid)
        except KeyError as exc:
            raise PlanError(f"no concept with id {cid} in the library") from exc
        if concept.kind == "static":
            raise PlanError(f"concept {cid} ({concept.name!r}) is a known idea that checks the method, "
                            "not a lesson: choose a discovered concept")
        names[cid] = concept.name
        concept_cands[cid] = _concept_candidates(db, cid, False, rating)
    # Concepts of one source position share prototypes. The concept with the fewest
    # prototypes is served first, and each takes positions the others still need last,
    # so a session with all of them fits whenever the positions allow it.
    order = sorted(spec.concept_ids, key=lambda cid: (len(concept_cands[cid]), spec.concept_ids.index(cid)))
    for i, cid in enumerate(order):
        later = frozenset(position_key(c.fen) for other in order[i + 1:] for c in concept_cands[other])
        got = pick(concept_cands[cid], counts, f"concept {cid} ({names[cid]!r})", cid, later)
        for ph in phases:
            by_phase[ph].append(got[ph])

    if spec.control.count:
        ccounts = {ph: spec.control.count for ph in phases}
        if spec.control.source == "failed":
            failed = [c for c in list_concepts(db, include_hidden=True) if c.is_control and c.id not in spec.concept_ids]
            cands = [x for c in failed for x in _concept_candidates(db, c.id, True, rating)]
            what = f"the control pool ({len(failed)} concept(s) that failed a filter)"
        elif spec.control.source == "machine":
            cands = _machine_candidates(db)
            what = "the control pool (self-play positions with a stored search)"
        else:
            assert spec.control.set_id is not None
            cands = _set_candidates(db, spec.control.set_id)
            what = f"the control pool (position set {spec.control.set_id}, positions with a best move)"
        got = pick(cands, ccounts, what, None)
        for ph in phases:
            # Control items from failed concepts are grouped by their own concept.
            groups: dict[int | None, list[_Candidate]] = {}
            for c in got[ph]:
                groups.setdefault(c.concept_id, []).append(c)
            by_phase[ph].extend(groups.values())

    items: list[NewItem] = []
    for ph in phases:
        if ph == Phase.LEARNING:
            # Studied concept by concept, concepts in a shuffled order.
            ordered = [c for group in _shuffled(rng, by_phase[ph]) for c in group]
        else:
            ordered = _shuffled(rng, [c for group in by_phase[ph] for c in group])
        for i, c in enumerate(ordered):
            c = _with_search(db, c)
            items.append(NewItem(ph, i, c.concept_id, c.is_control, c.source, c.source_id, c.fen, c.expected,
                                 c.line, c.value, c.visits, why=_why(c, rating)))
    return items


def _suited(c: _Candidate) -> bool | None:
    return None if c.find_p is None else SUITED[0] <= c.find_p <= SUITED[1]


def _by_suitability(cands: list[_Candidate]) -> list[_Candidate]:
    """Suited items first, then those with no human figures, then the rest (stable)."""
    rank = {True: 0, None: 1, False: 2}
    return sorted(cands, key=lambda c: rank[_suited(c)])


def _why(c: _Candidate, rating: int | None) -> str:
    if c.find_p is None:
        return "" if rating is None else "no human-model figures for this item"
    share = f"found by {100 * c.find_p:.0f}% of players rated {rating} (Maia)"
    if _suited(c):
        return f"{share}: suited to the rating ({100 * SUITED[0]:.0f}-{100 * SUITED[1]:.0f}%)"
    return f"{share}: outside {100 * SUITED[0]:.0f}-{100 * SUITED[1]:.0f}%, taken as too few suited items were left"


def create_sessions(db: sqlite_utils.Database, spec: PlanSpec, network_id: int | None = None) -> PlannedSessions:
    """Make the plan and store one session per player (same items, same order).

    The seed is drawn when ``spec.seed`` is None and recorded in every session.
    ``network_id`` defaults to the network of the plan's concepts when they share one.
    Raises :class:`PlanError` (or :class:`NotEnoughPositions`).
    """
    seed = spec.seed if spec.seed is not None else secrets.randbits(31)
    items = build_items(db, spec, seed)
    if network_id is None:
        nets = {get_concept(db, cid).network_id for cid in spec.concept_ids}
        network_id = nets.pop() if len(nets) == 1 else None
    recorded = PlanSpec.from_dict({**spec.to_dict(), "seed": seed})
    batch = uuid.uuid4().hex
    ids = insert_sessions(db, player_ids=spec.player_ids, items=items, spec=recorded.to_dict(), seed=seed,
                          mode=spec.mode, batch=batch, network_id=network_id, label=spec.label)
    return PlannedSessions(ids, batch, seed, len(items))
