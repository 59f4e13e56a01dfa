"""Looking back: the review queue (which concepts are due again for a player, FSRS) and
the review of a session's answers (each test position with the player's move, the
teacher's, the accepted moves and the evaluations behind them).

Scheduling uses the ``fsrs`` package (the scheduler Anki ships), replayed from the
attempt log: each post-test or review-mode test of a concept in a session is one
review, rated from the share of the teacher's moves found (all: Easy, at least 3/4:
Good, at least 1/2: Hard, less: Again) at the time of its last answer. Fuzzing is
off, so the queue is a pure function of the log and the clock.

The answer review (:func:`answer_review`) reads the session's items and the attempt
log: the teacher's figures come from the item's stored search (visit share and value
of each move), and, where the item's prototype was checked by an engine
(``Prototype.verification``, see ``concepts/verify.py``), the engine's evaluation of
each move it searched and its verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import chess
import sqlite_utils
from conceptcoach.store.attempts import list_attempts
from conceptcoach.store.concepts import get_concept, get_prototype
from conceptcoach.store.sessions import session_items
from conceptcoach.study.phases import Phase
from fsrs import Card, Rating, Scheduler


@dataclass(frozen=True)
class ReviewCard:
    concept_id: int
    concept_name: str
    due: datetime
    state: str  # Learning / Review / Relearning
    stability: float | None
    difficulty: float | None
    retrievability: float  # predicted chance of finding the idea now
    last_review: datetime | None
    reviews: int
    last_score: float  # share correct in the last review


def rating_for(correct: int, total: int) -> Rating:
    share = correct / total if total else 0.0
    if share >= 1.0:
        return Rating.Easy
    if share >= 0.75:
        return Rating.Good
    if share >= 0.5:
        return Rating.Hard
    return Rating.Again


def _parse(ts: str) -> datetime:
    dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def review_cards(db: sqlite_utils.Database, player_id: int, now: datetime | None = None) -> list[ReviewCard]:
    """Every concept the player was tested on after studying, soonest due first."""
    now = now or datetime.now(UTC)
    scheduler = Scheduler(enable_fuzzing=False)
    events: dict[tuple[int, int], list[int | str]] = {}  # (session, concept) -> [correct, total, last time]
    for a in list_attempts(db, player_ids=[player_id], phases=("post", "review")):
        if a.is_control or a.concept_id is None:
            continue
        ev = events.setdefault((a.session_id, a.concept_id), [0, 0, a.answered_at])
        ev[0] = int(ev[0]) + int(a.correct)
        ev[1] = int(ev[1]) + 1
        ev[2] = max(str(ev[2]), a.answered_at)
    cards: dict[int, tuple[Card, int, float]] = {}
    for (_, concept_id), (correct, total, when) in sorted(events.items(), key=lambda kv: str(kv[1][2])):
        t = _parse(str(when))
        card, n, _ = cards.get(concept_id, (Card(card_id=concept_id, due=t), 0, 0.0))
        card, _log = scheduler.review_card(card, rating_for(int(correct), int(total)), review_datetime=t)
        cards[concept_id] = (card, n + 1, int(correct) / int(total))
    out = []
    for concept_id, (card, n, last) in cards.items():
        try:
            name = get_concept(db, concept_id).name
        except KeyError:
            name = f"concept {concept_id}"
        out.append(ReviewCard(concept_id, name, card.due, card.state.name, card.stability, card.difficulty,
                              float(scheduler.get_card_retrievability(card, now)), card.last_review, n, last))
    return sorted(out, key=lambda c: (c.due, c.concept_id))


def due_reviews(db: sqlite_utils.Database, player_id: int, now: datetime | None = None) -> list[ReviewCard]:
    """The concepts due for review now (the queue a self-study screen shows)."""
    now = now or datetime.now(UTC)
    return [c for c in review_cards(db, player_id, now) if c.due <= now]


# ----- the review of a session's answers -----------------------------------------------------------


@dataclass(frozen=True)
class MoveFigures:
    """One move of a reviewed position with what is known of it."""

    uci: str
    san: str
    visit_share: float | None  # share of the teacher's search visits (None: no search stored)
    value: float | None  # the search's value after the move, side to move (-1 lost .. +1 won)
    engine_cp: int | None  # the engine's evaluation, side to move, centipawns (None: not searched)
    teacher: bool  # the teacher's move
    accepted: bool  # scored as right
    played: bool  # the player's answer


@dataclass(frozen=True)
class EngineCheck:
    """The engine's verdict on a position's teacher move (from the prototype's verification)."""

    status: str  # verified / rejected / unverified
    best_uci: str | None
    best_san: str | None
    best_cp: int | None
    teacher_cp: int | None
    loss_cp: int | None
    depth: int | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewedPosition:
    """A test position of a session as the review page shows it."""

    item_id: int
    phase: str
    number: int  # 1-based within its phase
    phase_size: int
    concept_id: int | None
    concept_name: str  # '' for control positions
    is_control: bool
    fen: str
    teacher_uci: str
    teacher_san: str
    accepted: tuple[str, ...]  # UCI, the teacher's move first
    accepted_san: tuple[str, ...]
    answered: bool  # False: not answered yet (a session still running)
    answer_uci: str  # '' when no move was given (skipped, time ran out)
    answer_san: str
    correct: bool
    response_ms: int | None
    moves: tuple[MoveFigures, ...]  # most visited first, then moves only the engine searched
    line_uci: tuple[str, ...]  # the teacher's line from the position (legal prefix)
    line_san: tuple[str, ...]
    engine: EngineCheck | None


def _san_or_uci(board: chess.Board, uci: str) -> str:
    try:
        move = chess.Move.from_uci(uci)
    except ValueError:
        return uci
    return board.san(move) if move in board.legal_moves else uci


def _legal_line(fen: str, line: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    board = chess.Board(fen)
    ucis, sans = [], []
    for uci in line:
        try:
            move = chess.Move.from_uci(uci)
        except ValueError:
            break
        if move not in board.legal_moves:
            break
        ucis.append(uci)
        sans.append(board.san(move))
        board.push(move)
    return tuple(ucis), tuple(sans)


def _engine_check(board: chess.Board, verdict: dict[str, object] | None) -> EngineCheck | None:
    if not verdict:
        return None
    best = verdict.get("best_move")
    params = verdict.get("params")
    depth = params.get("depth") if isinstance(params, dict) else None

    def _int(key: str) -> int | None:
        v = verdict.get(key)
        return int(v) if isinstance(v, (int, float)) else None

    reasons = verdict.get("reasons")
    return EngineCheck(
        status=str(verdict.get("status", "unverified")), best_uci=str(best) if best else None,
        best_san=_san_or_uci(board, str(best)) if best else None, best_cp=_int("best_cp"),
        teacher_cp=_int("teacher_cp"), loss_cp=_int("loss_cp"), depth=int(depth) if isinstance(depth, int) else None,
        reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else ())


def answer_review(db: sqlite_utils.Database, session_id: int,
                  phases: tuple[str, ...] | None = None) -> list[ReviewedPosition]:
    """The test positions of a session (of ``phases``, default every test phase) in the
    order they were met, each with the player's answer (if any yet), the teacher's move,
    the accepted moves and the evaluations: the item's stored search (visit share and
    value per move) and, where its prototype was verified by an engine, the engine's
    evaluation of each move it searched and its verdict."""
    wanted = tuple(phases) if phases is not None else tuple(p.value for p in (Phase.PRE, Phase.POST, Phase.REVIEW))
    items = [it for it in session_items(db, session_id) if it.phase in wanted]
    answers = {a.item_id: a for a in list_attempts(db, session_ids=[session_id]) if a.phase != Phase.LEARNING}
    sizes = {p: sum(1 for it in items if it.phase == p) for p in wanted}
    seen: dict[str, int] = {}
    names: dict[int, str] = {}
    out: list[ReviewedPosition] = []
    for it in items:
        seen[it.phase] = seen.get(it.phase, 0) + 1
        board = chess.Board(it.fen)
        name = ""
        if it.concept_id is not None and not it.is_control:
            if it.concept_id not in names:
                try:
                    names[it.concept_id] = get_concept(db, it.concept_id).name
                except KeyError:
                    names[it.concept_id] = f"concept {it.concept_id}"
            name = names[it.concept_id]
        verdict = None
        if it.source == "prototype" and it.source_id is not None:
            try:
                verdict = get_prototype(db, it.source_id).verification
            except KeyError:
                verdict = None
        engine = _engine_check(board, verdict)
        evals = dict(verdict.get("evals") or {}) if verdict else {}
        teacher = it.expected[0] if it.expected else ""
        attempt = answers.get(it.id)
        played = attempt.answer_uci if attempt is not None else ""
        total = sum(float(v.get("n", 0)) for v in it.visits.values())
        ucis = sorted(it.visits, key=lambda m: -float(it.visits[m].get("n", 0)))
        ucis += sorted((m for m in evals if m not in it.visits), key=lambda m: -float(evals[m]))
        for extra in (teacher, *it.expected, played):
            if extra and extra not in ucis:
                ucis.append(extra)
        moves = []
        for uci in ucis:
            child = it.visits.get(uci, {})
            n = float(child.get("n", 0))
            cp = evals.get(uci, child.get("cp"))
            moves.append(MoveFigures(
                uci=uci, san=_san_or_uci(board, uci), visit_share=n / total if total > 0 else None,
                value=float(child["q"]) if "q" in child and n > 0 else None,
                engine_cp=int(cp) if cp is not None else None, teacher=uci == teacher,
                accepted=uci in it.expected, played=bool(played) and uci == played))
        line_uci, line_san = _legal_line(it.fen, it.line or ((teacher,) if teacher else ()))
        out.append(ReviewedPosition(
            item_id=it.id, phase=it.phase, number=seen[it.phase], phase_size=sizes.get(it.phase, 0),
            concept_id=it.concept_id, concept_name=name, is_control=it.is_control, fen=it.fen,
            teacher_uci=teacher, teacher_san=_san_or_uci(board, teacher) if teacher else "",
            accepted=tuple(it.expected), accepted_san=tuple(_san_or_uci(board, m) for m in it.expected),
            answered=attempt is not None, answer_uci=played,
            answer_san=attempt.answer_san if attempt is not None else "",
            correct=bool(attempt.correct) if attempt is not None else False,
            response_ms=attempt.response_ms if attempt is not None else None,
            moves=tuple(moves), line_uci=line_uci, line_san=line_san, engine=engine))
    return out
