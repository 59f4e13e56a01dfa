"""Running a session: where it stands, answering the current item, studying a lesson.

State is never kept in memory between calls: :func:`session_state` derives the phase
and the current item from the session's items and the append-only logs, so a session
paused today (or a process killed mid-answer) resumes tomorrow from the store alone.
Each answer is committed in its own transaction before the call returns.

Phases (:class:`~conceptcoach.study.phases.Phase`) run pre -> learning -> post -> done
(review mode: review -> done). Test items (pre, post, review) are done when answered;
learning items when studied. Before that the player may try moves of their own in a
learning position (:func:`try_move`): each try is scored against the teacher's search
and logged in the learning-tries log, apart from the attempt log, so tries never count
in the gains.

When the plan sets seconds per position, the core (not the client) applies it, so
every client scores alike: a test answer whose ``response_ms`` exceeds the limit is
logged as given, with the teacher's figures, but counts as not correct (credit 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import chess
import sqlite_utils
from conceptcoach.store.attempts import (
    AlreadyDone,
    Attempt,
    LearningTry,
    NewAttempt,
    NewTry,
    append_attempt,
    append_studied,
    append_try,
    list_attempts,
    list_studied,
)
from conceptcoach.store.concepts import get_concept
from conceptcoach.store.sessions import SessionItem, SessionRecord, get_session, session_items
from conceptcoach.study.phases import Phase
from conceptcoach.study.scoring import (
    Evaluate,
    PhaseTally,
    Score,
    TryRating,
    rate_try,
    score_answer,
    tally_by_phase,
)

__all__ = [
    "AlreadyDone", "AnswerResult", "Lesson", "OutOfTurn", "SessionState", "TryResult", "answer", "lesson",
    "line_san", "mark_studied", "phase_tally", "session_state", "try_move",
]


class OutOfTurn(ValueError):
    """An answer or study record for an item that is not the session's current item."""


@dataclass(frozen=True)
class SessionState:
    session: SessionRecord
    phase: Phase
    current: SessionItem | None
    index_in_phase: int  # 0-based position of ``current`` within its phase
    phase_size: int
    done_items: int
    total_items: int
    last_activity: str | None  # time of the newest log record, None before the first

    @property
    def finished(self) -> bool:
        return self.phase is Phase.DONE


@dataclass(frozen=True)
class AnswerResult:
    attempt: Attempt
    score: Score
    state: SessionState


@dataclass(frozen=True)
class TryResult:
    """A move tried in a learning position: the logged row and the teacher's rating of it."""

    logged: LearningTry
    rating: TryRating


@dataclass(frozen=True)
class Lesson:
    """What the learning phase shows for an item: the teacher's move, line and figures.

    ``line_uci`` is the item's whole stored line from the position (its legal prefix,
    should the record be damaged) and ``line_san`` the same moves in SAN. The line is the
    search's principal variation; it usually starts with ``move_uci``, but need not
    (the teacher's move is the most visited child, the line may follow another)."""

    fen: str
    move_uci: str
    move_san: str
    line_san: list[str]
    value: float | None
    children: list[tuple[str, str, float, float | None]]  # (uci, san, visit share, q), most visited first
    concept_name: str | None
    line_uci: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Logs:
    session: SessionRecord
    items: list[SessionItem]
    answered: frozenset[int]  # test items with an attempt
    studied: frozenset[int]  # learning items with a study record
    last: str | None


def _load(db: sqlite_utils.Database, session_id: int) -> _Logs:
    session = get_session(db, session_id)
    items = session_items(db, session_id)
    attempts = list_attempts(db, session_ids=[session_id])
    studied = list_studied(db, session_ids=[session_id])
    stamps = [a.answered_at for a in attempts] + [s.studied_at for s in studied]
    return _Logs(session, items, frozenset(a.item_id for a in attempts if a.phase != Phase.LEARNING and a.item_id),
                 frozenset(s.item_id for s in studied if s.item_id), max(stamps) if stamps else None)


def _derive(logs: _Logs) -> SessionState:
    items = logs.items
    done = [it.id in (logs.studied if it.phase == Phase.LEARNING else logs.answered) for it in items]
    for k, it in enumerate(items):
        if not done[k]:
            same = [x.id for x in items if x.phase == it.phase]
            return SessionState(logs.session, Phase(it.phase), it, same.index(it.id), len(same), sum(done),
                                len(items), logs.last)
    return SessionState(logs.session, Phase.DONE, None, 0, 0, len(items), len(items), logs.last)


def session_state(db: sqlite_utils.Database, session_id: int) -> SessionState:
    """Where the session stands, derived from its items and the logs."""
    return _derive(_load(db, session_id))


def _check_current(state: SessionState, item_id: int) -> SessionItem:
    cur = state.current
    if cur is None:
        raise OutOfTurn(f"session {state.session.id} is finished; nothing more can be answered")
    if cur.id != item_id:
        raise OutOfTurn(f"item {item_id} is not the current item of session {state.session.id} "
                        f"(the current one is item {cur.id}, {cur.phase} {state.index_in_phase + 1}"
                        f"/{state.phase_size})")
    return cur


def answer(
    db: sqlite_utils.Database,
    session_id: int,
    item_id: int,
    move: str | None,
    *,
    response_ms: int | None = None,
    hints: int = 0,
    evaluate: Evaluate | None = None,
) -> AnswerResult:
    """Answer the current item with ``move`` (UCI or SAN; None when no move was given,
    e.g. the time ran out). The attempt is committed before this returns.

    Raises :class:`OutOfTurn` for an item that is not current, :class:`AlreadyDone`
    when it was answered already, and ``scoring.IllegalAnswer`` for an illegal move
    (nothing is written then).
    """
    logs = _load(db, session_id)
    state = _derive(logs)
    item = _check_current(state, item_id)
    score = score_answer(item.fen, item.expected, item.visits, move, evaluate)
    limit = state.session.spec.get("seconds_per_position")
    if limit and response_ms is not None and response_ms > float(limit) * 1000 and item.phase != Phase.LEARNING:
        score = replace(score, correct=False, partial_credit=0.0)
    attempt = append_attempt(db, NewAttempt(
        session_id=session_id, item_id=item.id, player_id=state.session.player_id, phase=item.phase,
        concept_id=item.concept_id, is_control=item.is_control, fen=item.fen, expected=item.expected,
        answer_uci=score.answer_uci, answer_san=score.answer_san, correct=score.correct,
        value_drop=score.value_drop, visit_share=score.visit_share, partial_credit=score.partial_credit,
        response_ms=response_ms, hints=hints, network_id=_network_id(db, state.session, item),
    ))
    # The new state follows from the old one and the row just committed: no second read.
    answered = logs.answered | {item.id} if item.phase != Phase.LEARNING else logs.answered
    after = _derive(replace(logs, answered=answered, last=attempt.answered_at))
    return AnswerResult(attempt, score, after)


def mark_studied(db: sqlite_utils.Database, session_id: int, item_id: int, study_ms: int | None = None) -> SessionState:
    """Record that the current learning item was studied and move on (committed at once)."""
    logs = _load(db, session_id)
    state = _derive(logs)
    item = _check_current(state, item_id)
    if item.phase != Phase.LEARNING:
        raise OutOfTurn(f"item {item_id} is a {item.phase}-test item: answer it, studying is for the learning phase")
    rec = append_studied(db, session_id=session_id, item_id=item.id, player_id=state.session.player_id,
                         concept_id=item.concept_id, is_control=item.is_control, fen=item.fen, study_ms=study_ms)
    return _derive(replace(logs, studied=logs.studied | {item.id}, last=rec.studied_at))


def try_move(
    db: sqlite_utils.Database,
    session_id: int,
    item_id: int,
    move: str,
    *,
    response_ms: int | None = None,
    evaluate: Evaluate | None = None,
) -> TryResult:
    """The player tries ``move`` (UCI or SAN) in the current learning position: it is
    rated against the teacher's search and logged (committed before this returns). The
    session does not move on; the player may try again, every try is kept.

    Raises :class:`OutOfTurn` when ``item_id`` is not the current item or not a learning
    item, and ``scoring.IllegalAnswer`` for an illegal move (nothing is written then).
    """
    state = _derive(_load(db, session_id))
    item = _check_current(state, item_id)
    if item.phase != Phase.LEARNING:
        raise OutOfTurn(f"item {item_id} is a {item.phase}-test item: answer it; moves are tried in learning "
                        "positions")
    rating = rate_try(item.fen, item.expected, item.visits, move, evaluate)
    s = rating.score
    logged = append_try(db, NewTry(
        session_id=session_id, item_id=item.id, player_id=state.session.player_id, concept_id=item.concept_id,
        is_control=item.is_control, fen=item.fen, expected=item.expected, answer_uci=s.answer_uci,
        answer_san=s.answer_san, correct=s.correct, value_drop=s.value_drop, visit_share=s.visit_share,
        partial_credit=s.partial_credit, response_ms=response_ms,
    ))
    return TryResult(logged, rating)


def phase_tally(db: sqlite_utils.Database, session_id: int) -> dict[Phase, PhaseTally]:
    """Concept positions found per test phase of a session, control items left out."""
    return {Phase(p): t for p, t in tally_by_phase(list_attempts(db, session_ids=[session_id])).items()}


def _network_id(db: sqlite_utils.Database, session: SessionRecord, item: SessionItem) -> int | None:
    if session.network_id is not None or item.concept_id is None:
        return session.network_id
    try:
        return get_concept(db, item.concept_id).network_id
    except KeyError:
        return None


def line_san(fen: str, line: Sequence[str]) -> list[str]:
    """The moves of ``line`` (UCI) played from ``fen``, in SAN; stops at the first move
    that is malformed or not legal (a damaged record keeps its sound start).

    >>> line_san("r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3", ["f1b5", "a7a6", "e1e1"])
    ['Bb5', 'a6']
    """
    board = chess.Board(fen)
    out: list[str] = []
    for uci in line:
        try:
            mv = chess.Move.from_uci(uci)
        except ValueError:
            break
        if not board.is_legal(mv):
            break
        out.append(board.san(mv))
        board.push(mv)
    return out


def lesson(db: sqlite_utils.Database, item: SessionItem) -> Lesson:
    """The teacher's move, its whole stored line (UCI and SAN) and root figures for an item."""
    board = chess.Board(item.fen)
    best = item.expected[0] if item.expected else ""
    best_san = board.san(chess.Move.from_uci(best)) if best else ""
    sans = line_san(item.fen, item.line)
    total = sum(float(v.get("n", 0)) for v in item.visits.values())
    children = []
    for uci, v in sorted(item.visits.items(), key=lambda kv: -float(kv[1].get("n", 0))):
        mv = chess.Move.from_uci(uci)
        san = board.san(mv) if mv in board.legal_moves else uci
        q = v.get("q")
        children.append((uci, san, float(v.get("n", 0)) / total if total else 0.0, float(q) if q is not None else None))
    name = None
    if item.concept_id is not None:
        try:
            name = get_concept(db, item.concept_id).name
        except KeyError:
            name = None
    return Lesson(item.fen, best, best_san, sans, item.value, children, name, list(item.line[:len(sans)]))
